"""The HTTP service as an upstream system uses it: tokens and scopes, intake with field
errors, idempotency, evidence, holds, login checks with lockout, OpenAPI and metrics."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from letters.http import create_app
from letters.ledger import create_token
from tests.conftest import Pipeline, load_job, password_on


@pytest.fixture
def api(pipeline: Pipeline) -> Iterator[tuple[TestClient, Pipeline, dict[str, str]]]:
    ledger = pipeline.runtime.ledger
    tokens = {
        "all": create_token(ledger, "all", {"submit", "read", "hold", "verify"}),
        "read": create_token(ledger, "reader", {"read"}),
        "pdf": create_token(ledger, "letters", {"pdf"}),
    }
    with TestClient(create_app(pipeline.runtime)) as client:
        yield client, pipeline, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_and_scopes(api: Any) -> None:
    client, _, tokens = api
    job = load_job("reminder.nb")
    assert client.post("/v1/jobs", json=job).status_code == 401
    assert client.post("/v1/jobs", json=job, headers=auth("lt_nope")).status_code == 401
    assert client.post("/v1/jobs", json=job, headers=auth(tokens["read"])).status_code == 403
    unauthorized = client.post("/v1/jobs", json=job).json()["errors"][0]["code"]
    forbidden = client.post("/v1/jobs", json=job, headers=auth(tokens["read"])).json()
    assert (unauthorized, forbidden["errors"][0]["code"]) == ("unauthorized", "forbidden")
    assert client.get("/v1/jobs/x", headers=auth(tokens["read"])).status_code == 404


def test_a_letter_pdf_needs_its_own_scope_not_read(api: Any) -> None:
    """The PDF carries the debtor's live password: a ``read`` token (evidence) may not
    download it; a ``pdf`` token may, and may read nothing else."""
    client, pipeline, tokens = api
    job = load_job("reminder.nb")
    letter_id = client.post("/v1/jobs", json=job, headers=auth(tokens["all"])).json()["letter_id"]
    pipeline.drain()
    refused = client.get(f"/v1/letters/{letter_id}/pdf", headers=auth(tokens["read"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/json"
    [error] = refused.json()["errors"]
    assert error == {
        "field": "(request)",
        "code": "forbidden",
        "reason": "this token lacks the 'pdf' scope",
    }
    assert b"%PDF" not in refused.content
    allowed = client.get(f"/v1/letters/{letter_id}/pdf", headers=auth(tokens["pdf"]))
    assert allowed.status_code == 200
    assert password_on(allowed.content) == password_on(pipeline.pdf(letter_id))
    assert client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens["pdf"])).status_code == 403
    spec = client.get("/openapi.json").json()
    assert "`pdf` scope" in spec["paths"]["/v1/letters/{letter_id}/pdf"]["get"]["description"]


def test_submit_then_read_the_evidence_and_the_pdf(api: Any) -> None:
    client, pipeline, tokens = api
    job = load_job("payment_request.en")
    response = client.post("/v1/jobs", json=job, headers=auth(tokens["all"]))
    assert response.status_code == 202, response.text
    letter_id = response.json()["letter_id"]
    pipeline.drain()
    history = client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens["read"])).json()
    assert history["job"]["status"] == "delivered"
    assert history["letter"]["template"] == "payment_request.en.html"
    pdf = client.get(f"/v1/letters/{letter_id}/pdf", headers=auth(tokens["pdf"]))
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == history["letter"]["pdf_sha256"]
    # the same job again: the same letter; other content under the same id: 409
    again = client.post("/v1/jobs", json=job, headers=auth(tokens["all"]))
    assert again.status_code == 200 and again.json()["letter_id"] == letter_id
    changed = dict(job, language="nb")
    conflict = client.post("/v1/jobs", json=changed, headers=auth(tokens["all"]))
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["field"] == "id"
    assert conflict.json()["errors"][0]["code"] == "job-conflict"


def test_bad_jobs_get_field_errors(api: Any) -> None:
    client, _, tokens = api
    job = load_job("reminder.nb")
    job["claims"][0]["principal"] = 12.5
    job["payment"]["kid"] = "123456783"
    response = client.post("/v1/jobs", json=job, headers=auth(tokens["all"]))
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert fields == {"claims[0].principal": "bad-amount", "payment.kid": "bad-kid"}
    broken = client.post("/v1/jobs", content=b"{nope", headers=auth(tokens["all"]))
    assert broken.status_code == 422 and "not valid JSON" in broken.text
    assert broken.json()["errors"][0]["code"] == "not-json"


def test_a_batch_accepts_the_good_and_reports_the_bad(api: Any) -> None:
    client, pipeline, tokens = api
    good = load_job("reminder.en")
    bad = copy.deepcopy(good)
    bad["id"] = "other-0001"
    bad["kind"] = "final_demand"
    response = client.post("/v1/jobs", json=[good, bad, good], headers=auth(tokens["all"]))
    assert response.status_code == 200
    body = response.json()
    assert [i["status"] for i in body["items"]] == ["accepted", "refused", "existing"]
    assert body["items"][1]["errors"][0]["field"] == "kind"
    assert body["items"][1]["errors"][0]["code"] == "not-allowed"
    assert (body["accepted"], body["refused"]) == (2, 1)
    pipeline.drain()
    assert pipeline.status(good["id"]) == "delivered"


def test_hold_and_release_over_http(api: Any) -> None:
    client, pipeline, tokens = api
    job = load_job("collection_notice.en")
    held = client.post(
        f"/v1/cases/{job['reference']}/hold",
        json={"reason": "dispute"},
        headers=auth(tokens["all"]),
    )
    assert held.status_code == 201
    client.post("/v1/jobs", json=job, headers=auth(tokens["all"]))
    pipeline.drain()
    assert pipeline.status(job["id"]) == "held"
    released = client.delete(
        f"/v1/cases/{job['reference']}/hold",
        params={"reason": "resolved"},
        headers=auth(tokens["all"]),
    )
    assert released.json()["resumed"] == [job["id"]]
    pipeline.drain()
    assert pipeline.status(job["id"]) == "delivered"
    assert (
        client.post(
            "/v1/cases/not valid!/hold", json={"reason": "x"}, headers=auth(tokens["all"])
        ).status_code
        == 422
    )


def test_hold_and_release_take_the_same_shape_and_say_what_they_did(api: Any) -> None:
    """Both with the reason in the body; the hold counts the jobs it stops, the release
    says whether there was a hold at all."""
    client, pipeline, tokens = api
    job = load_job("reminder.en")
    ref, h = job["reference"], auth(tokens["all"])
    never = client.post(f"/v1/cases/{ref}/release", json={"reason": "x"}, headers=h)
    assert never.status_code == 200
    assert never.json() == {"reference": ref, "held": False, "was_held": False, "resumed": []}
    client.post("/v1/jobs", json=job, headers=h)  # accepted, not yet rendered: unfinished
    held = client.post(f"/v1/cases/{ref}/hold", json={"reason": "dispute"}, headers=h)
    assert held.status_code == 201 and held.json()["unfinished_jobs"] == 1
    pipeline.drain()
    assert pipeline.status(job["id"]) == "held"
    released = client.post(f"/v1/cases/{ref}/release", json={"reason": "resolved"}, headers=h)
    assert released.json() == {
        "reference": ref,
        "held": False,
        "was_held": True,
        "resumed": [job["id"]],
    }
    pipeline.drain()
    assert pipeline.status(job["id"]) == "delivered"
    empty = client.post(f"/v1/cases/{ref}/release", json={"reason": ""}, headers=h)
    assert empty.status_code == 422
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/v1/cases/{reference}/hold"]["delete"]["deprecated"] is True
    assert "requestBody" in spec["paths"]["/v1/cases/{reference}/release"]["post"]


def test_login_check_locks_after_five_wrong_tries(api: Any) -> None:
    client, pipeline, tokens = api
    job = load_job("reminder.nb")
    letter_id = client.post("/v1/jobs", json=job, headers=auth(tokens["all"])).json()["letter_id"]
    pipeline.drain()
    password = password_on(pipeline.pdf(letter_id))

    def check(pw: str) -> str:
        r = client.post(
            "/v1/credentials/verify",
            headers=auth(tokens["all"]),
            json={"reference": job["reference"], "password": pw},
        )
        assert r.status_code == 200
        return str(r.json()["result"])

    assert check(password) == "valid"
    for _ in range(5):
        assert check("Wrong2345678") == "wrong"
    assert check(password) == "locked"
    assert (
        client.post(
            "/v1/credentials/verify",
            headers=auth(tokens["read"]),
            json={"reference": "x", "password": "y"},
        ).status_code
        == 403
    )


def test_validation_errors_never_echo_the_input(api: Any) -> None:
    client, _, tokens = api
    response = client.post(
        "/v1/credentials/verify", headers=auth(tokens["all"]), json={"password": "SuperSecret99"}
    )
    assert response.status_code == 422
    assert "SuperSecret99" not in response.text
    assert response.json()["errors"][0]["field"] == "reference"


def test_request_errors_speak_the_products_words_not_the_frameworks(api: Any) -> None:
    client, _, tokens = api
    headers = auth(tokens["all"])

    def reasons(response: Any) -> list[str]:
        return [e["reason"] for e in response.json()["errors"]]

    missing = client.post("/v1/credentials/verify", headers=headers, json={"reference": "AX-1"})
    assert missing.status_code == 422
    assert reasons(missing) == ["required, and missing (see the OpenAPI document)"]
    extra = client.post(
        "/v1/credentials/verify",
        headers=headers,
        json={"reference": "AX-2026-1", "password": "x", "pasword": "x"},
    )
    assert extra.status_code == 422 and reasons(extra)[0].startswith("unknown field")
    nowhere = client.get("/v1/nowhere", headers=headers)
    assert nowhere.status_code == 404 and reasons(nowhere)[0].startswith("no such path")
    wrong_method = client.put("/v1/jobs", headers=headers, json={})
    assert wrong_method.status_code == 405 and "Allow header" in reasons(wrong_method)[0]
    for response in (missing, extra, nowhere, wrong_method):
        for library in ("Field required", "Extra inputs", "Not Found", "Method Not Allowed"):
            assert library not in response.text


def test_openapi_describes_the_job_contract(api: Any) -> None:
    client, _, _ = api
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/Job"} in body["schema"]["oneOf"]
    assert "Claim" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_openapi_describes_a_jobs_history(api: Any) -> None:
    client, _, _ = api
    spec = client.get("/openapi.json").json()
    ok = spec["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobHistory"
    }
    schemas = spec["components"]["schemas"]
    history = schemas["JobHistory"]
    assert set(history["properties"]) == {
        "job",
        "events",
        "letter",
        "attempts",
        "holds",
        "print_batch",
        "closure",
    }
    assert set(history["required"]) == {"job", "events", "letter", "attempts", "holds"}
    job = schemas["JobRecord"]["properties"]
    assert {"id", "status", "accepted_at", "error_class", "error_code", "error"} <= set(job)
    assert (job["accepted_at"]["type"], job["accepted_at"]["format"]) == ("string", "date-time")
    assert schemas["JobStatus"]["enum"] == [
        "accepted",
        "rendered",
        "delivering",
        "delivered",
        "held",
        "failed",
        "uncertain",
    ]
    attempt = schemas["Attempt"]["properties"]
    assert {"at", "channel", "status", "external_id", "error_code", "error"} <= set(attempt)
    assert {"template", "pdf_sha256", "password_expires_at"} <= set(
        schemas["LetterEvidence"]["properties"]
    )


def test_metrics(api: Any) -> None:
    client, pipeline, tokens = api
    client.post("/v1/jobs", json=load_job("enforcement_notice.nb"), headers=auth(tokens["all"]))
    pipeline.drain()
    text = client.get("/metrics").text
    assert "letters_jobs_accepted_total" in text
    assert 'letters_jobs{status="delivered"} 1.0' in text
    assert "letters_render_seconds_count" in text


def test_a_failed_job_shows_its_stable_code_and_is_counted_by_it(api: Any) -> None:
    import datetime as dt

    client, pipeline, tokens = api
    job = load_job("reminder.en")
    hold = f"/v1/cases/{job['reference']}/hold"
    client.post(hold, json={"reason": "dispute"}, headers=auth(tokens["all"]))
    client.post("/v1/jobs", json=job, headers=auth(tokens["all"]))
    pipeline.drain()
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt.date(2026, 11, 23)}  # released three days later
    )
    client.delete(hold, params={"reason": "resolved"}, headers=auth(tokens["all"]))
    pipeline.drain()
    history = client.get(f"/v1/jobs/{job['id']}", headers=auth(tokens["read"])).json()
    assert history["job"]["status"] == "failed"
    assert history["job"]["error_code"] == "letter-date-past"
    assert history["job"]["error_class"] == "PermanentFailure"
    text = client.get("/metrics").text
    assert 'letters_jobs{status="failed"} 1.0' in text
    assert 'letters_jobs_failed_total{code="letter-date-past"} 1.0' in text


@pytest.mark.parametrize(
    ("body", "reason", "code"),
    [
        (b'"{\\"id\\": \\"x\\"}"', "send one job", "not-a-job-or-batch"),  # a JSON string
        (b"[" * 100_000, "nested more deeply than 32 levels", "too-deep"),
        (b'{"id": "a\\u0000b"}', "NUL characters", "nul-character"),
    ],
)
def test_odd_bodies_get_a_422_and_accept_nothing(
    api: Any, body: bytes, reason: str, code: str
) -> None:
    client, pipeline, tokens = api
    response = client.post("/v1/jobs", content=body, headers=auth(tokens["all"]))
    assert response.status_code == 422
    assert reason in response.json()["errors"][0]["reason"]
    assert response.json()["errors"][0]["code"] == code
    assert pipeline.runtime.ledger.counts() == {}


def test_errors_share_one_shape_and_a_second_hold_is_not_created(api: Any) -> None:
    client, _, tokens = api
    missing = client.get("/v1/jobs/nope", headers=auth(tokens["read"]))
    assert missing.status_code == 404 and missing.json()["errors"][0]["reason"]
    assert missing.json()["errors"][0]["code"] == "not-found"
    bad = client.post(
        "/v1/cases/not valid!/hold", json={"reason": "x"}, headers=auth(tokens["all"])
    )
    assert bad.json()["errors"] == [
        {"field": "reference", "code": "bad-reference", "reason": "not a valid case reference"}
    ]
    first = client.post(
        "/v1/cases/AX-2026-100041/hold", json={"reason": "dispute"}, headers=auth(tokens["all"])
    )
    again = client.post(
        "/v1/cases/AX-2026-100041/hold", json={"reason": "dispute"}, headers=auth(tokens["all"])
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["already_held"] is True


def test_an_unreadable_archive_is_a_503_not_a_crash(api: Any) -> None:
    client, pipeline, tokens = api
    job = load_job("reminder.en")
    letter_id = client.post("/v1/jobs", json=job, headers=auth(tokens["all"])).json()["letter_id"]
    pipeline.drain()
    for pdf in (pipeline.tmp / "archive").rglob("*.pdf"):
        pdf.unlink()
    response = client.get(f"/v1/letters/{letter_id}/pdf", headers=auth(tokens["pdf"]))
    assert response.status_code == 503


def test_identical_parallel_submissions_are_one_accepted_job(api: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from letters import metrics

    client, pipeline, tokens = api
    before = metrics.JOBS_ACCEPTED._value.get()
    data = dict(load_job("reminder.nb"), id="parallel-1")

    def post(_: int) -> Any:
        return client.post("/v1/jobs", json=data, headers=auth(tokens["all"]))

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [202]
    assert metrics.JOBS_ACCEPTED._value.get() - before == 1
    assert sum(pipeline.runtime.ledger.counts().values()) == 1
    pipeline.drain()  # the letter is made while this test's ledger is in place
