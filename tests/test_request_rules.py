"""What the service refuses about a request around its fields, as the OpenAPI document
says: a body that is not JSON (415), a small call's body too large (413), a query parameter
the call does not take (422), each in the documented error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from letters.http_requests import SMALL_BODY_BYTES
from tests.conftest import load_job
from tests.test_http import api, auth  # noqa: F401 - the fixture

REFERENCE = "AX-2026-100041"


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_a_body_that_is_not_json_is_415_in_the_error_shape(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    headers = {**auth(tokens["all"]), "Content-Type": "text/plain"}
    job = client.post("/v1/jobs", content=b'{"id": "x"}', headers=headers)
    hold = client.post(f"/v1/cases/{REFERENCE}/hold", content=b'{"reason": "x"}', headers=headers)
    for response in (job, hold):
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/json"
        assert _codes(response) == ["unsupported-media-type"]
    spec = client.get("/openapi.json").json()
    assert "415" in spec["paths"]["/v1/cases/{reference}/hold"]["post"]["responses"]
    # JSON by another name, or no Content-Type at all, is read as JSON
    problem_json = {**auth(tokens["all"]), "Content-Type": "application/merge-patch+json"}
    took = client.post(f"/v1/cases/{REFERENCE}/hold", json={"reason": "x"}, headers=problem_json)
    assert took.status_code == 201
    bare = client.post(
        f"/v1/cases/{REFERENCE}/hold", content=b'{"reason": "x"}', headers=auth(tokens["all"])
    )
    assert bare.status_code == 200  # held already


def test_a_small_call_takes_a_small_body_chunked_or_not(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    big = b'{"reason": "' + b"x" * SMALL_BODY_BYTES + b'"}'

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    url = f"/v1/cases/{REFERENCE}/hold"
    for body in (big, chunked()):
        response = client.post(url, content=body, headers=auth(tokens["all"]))
        assert response.status_code == 413
        assert _codes(response) == ["body-too-large"]
    # the job intake keeps its own, larger limit
    padded = json.dumps(load_job("reminder.nb")).encode() + b" " * SMALL_BODY_BYTES
    assert client.post("/v1/jobs", content=padded, headers=auth(tokens["all"])).status_code == 202


def test_a_small_body_is_refused_as_the_intake_refuses_a_job(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    url = f"/v1/cases/{REFERENCE}/hold"
    not_utf8 = client.post(url, content=b'{"reason": "caf\xe9"}', headers=auth(tokens["all"]))
    deep = client.post(url, content=b"[" * 100 + b"]" * 100, headers=auth(tokens["all"]))
    assert (not_utf8.status_code, _codes(not_utf8)) == (422, ["not-utf8"])
    assert (deep.status_code, _codes(deep)) == (422, ["too-deep"])


def test_an_unknown_query_parameter_is_refused_by_name(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    job = client.get("/v1/jobs/x", params={"verbose": "1"}, headers=auth(tokens["read"]))
    assert job.status_code == 422
    assert job.json()["errors"] == [
        {
            "field": "query.verbose",
            "code": "unknown-field",
            "reason": "a query parameter this call does not take",
        }
    ]
    odd = client.get("/v1/jobs/x", params={"<b>": "1"}, headers=auth(tokens["read"]))
    assert [e["field"] for e in odd.json()["errors"]] == ["(query)"]  # not echoed
    release = client.delete(
        f"/v1/cases/{REFERENCE}/hold",
        params={"reason": "paid", "force": "yes"},
        headers=auth(tokens["all"]),
    )
    assert (release.status_code, _codes(release)) == (422, ["unknown-field"])


def test_a_reason_in_the_query_is_checked_as_one_in_the_body(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    response = client.delete(
        f"/v1/cases/{REFERENCE}/hold",
        params={"reason": "paid\n2026-11-20 forged audit line"},
        headers=auth(tokens["all"]),
    )
    assert (response.status_code, _codes(response)) == (422, ["unprintable"])


def test_a_path_reference_has_its_exact_form(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    for reference in ("AX-2026 100041", "ıııı-1234"):
        response = client.post(
            f"/v1/cases/{reference}/hold", json={"reason": "x"}, headers=auth(tokens["all"])
        )
        assert (response.status_code, _codes(response)) == (422, ["bad-reference"])


def test_a_login_source_is_an_address_as_text(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    body = {"reference": REFERENCE, "password": "nope", "source": False}
    response = client.post("/v1/credentials/verify", json=body, headers=auth(tokens["all"]))
    assert (response.status_code, _codes(response)) == (422, ["wrong-type"])
