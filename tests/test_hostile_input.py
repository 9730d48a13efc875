"""Hostile input is a clear refusal with a stable code, never a traceback or a 500, and
nothing already accepted is lost (issue 11: `letters enqueue`, the HTTP intake)."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from letters import documents
from letters.http import MAX_BODY_BYTES
from letters.job import JobRejected
from letters.pipeline.enqueue import CSV_COLUMNS, read
from tests.conftest import FIXTURE_DATE, REHEARSAL_RULES, load_job
from tests.letters_command import run
from tests.test_http import api, auth  # noqa: F401 - the fixture

HUGE = b'{"id": "x", "principal": ' + b"9" * 5000 + b"}"


def good_line(i: int) -> bytes:
    return json.dumps(dict(load_job("reminder.nb"), id=f"hostile-{i}")).encode() + b"\n"


def hostile_file(tmp_path: Path) -> Path:
    lines = [
        good_line(1),
        b'{"id": "caf\xe9"}\n',  # Latin-1, not UTF-8
        b"[" * 50_000 + b"\n",  # deep nesting
        HUGE + b"\n",  # a 5000-digit integer
        b'{"id": NaN}\n',
        good_line(2),
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def test_every_bad_line_is_refused_with_its_number_and_the_file_goes_on(tmp_path: Path) -> None:
    found = list(read(hostile_file(tmp_path)))
    assert [n for n, _ in found] == [1, 2, 3, 4, 5, 6]
    codes = {n: x.errors[0].code for n, x in found if isinstance(x, JobRejected)}
    assert codes == {2: "not-utf8", 3: "too-deep", 4: "number-too-long", 5: "not-json"}
    assert [x["id"] for _, x in found if isinstance(x, dict)] == ["hostile-1", "hostile-2"]


def test_letters_enqueue_reads_the_whole_hostile_file(tmp_path: Path) -> None:
    result = run(
        "enqueue",
        hostile_file(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}",
        LETTERS_BROKER="stub",
        LETTERS_CLOCK_DATE=FIXTURE_DATE.isoformat(),
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
        LETTERS_ARCHIVE_DIR=str(tmp_path / "archive"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2
    assert "2 accepted, 4 refused" in result.stdout
    for line, code in ((2, "not-utf8"), (3, "too-deep"), (4, "number-too-long")):
        assert any(
            x.startswith(f"{tmp_path / 'hostile.jsonl'}:{line}:") and f"[{code}]" in x
            for x in result.stderr.splitlines()
        ), (line, result.stderr)


def test_a_broker_outage_is_one_message_and_the_jobs_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(good_line(1) + good_line(2) + good_line(3))
    database = tmp_path / "l.db"
    result = run(
        "enqueue",
        path,
        DATABASE_URL=f"sqlite:///{database}",
        LETTERS_BROKER="redis",
        REDIS_URL="redis://:secret@127.0.0.1:1/0",  # nothing listens on port 1
        LETTERS_REDIS_URL="redis://:secret@127.0.0.1:1/0",
        LETTERS_CLOCK_DATE=FIXTURE_DATE.isoformat(),
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
        LETTERS_ARCHIVE_DIR=str(tmp_path / "archive"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "3 accepted, 0 refused" in result.stdout
    message = [x for x in result.stderr.splitlines() if "[broker-unreachable]" in x]
    assert len(message) == 2, result.stderr  # the log line (once a minute) and the summary
    message = message[1:]
    assert "hostile-1, hostile-2, hostile-3" in message[0]
    assert "secret" not in result.stderr and "secret" not in result.stdout
    status = run("status", "hostile-2", DATABASE_URL=f"sqlite:///{database}")
    assert "accepted" in status.stdout, status.stdout + status.stderr


def csv_row(**cells: str) -> str:
    return ",".join(cells.get(c, "") for c in CSV_COLUMNS) + "\n"


def test_a_csv_with_bad_bytes_and_an_oversized_cell_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    header = ",".join(CSV_COLUMNS) + "\n"
    path.write_bytes(
        header.encode()
        + csv_row(id="a", debtor_name="Kari").encode()
        + csv_row(id="b", debtor_name="K\udce6ri").encode("utf-8", "surrogateescape")
        + csv_row(id="c", description="x" * 200_000).encode()
        + csv_row(id="d").encode()
    )
    found = list(read(path))
    assert [n for n, _ in found] == [2, 3, 4, 5]
    bad = {n: (x.errors[0].field, x.errors[0].code) for n, x in found if isinstance(x, JobRejected)}
    assert bad == {3: ("debtor_name", "not-utf8"), 4: ("(row)", "bad-line")}
    assert [x["id"] for _, x in found if isinstance(x, dict)] == ["a", "d"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_are_a_json_value_or_a_refusal(data: bytes) -> None:
    try:
        documents.loads(data)
    except JobRejected as exc:
        assert exc.errors and all(e.code for e in exc.errors)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=120), max_size=8))
def test_any_bytes_in_a_file_are_read_line_by_line(tmp_path: Path, lines: list[bytes]) -> None:
    for suffix in (".jsonl", ".csv"):
        path = tmp_path / f"any{suffix}"
        path.write_bytes(b"\n".join(lines))
        for number, item in read(path):  # never raises
            assert number >= 1
            assert isinstance(item, JobRejected | dict | list | str | int | float | bool) or (
                item is None
            )


def _api(api: Any) -> tuple[TestClient, Any, dict[str, str]]:  # noqa: F811
    return api  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "code"),
    [(HUGE, "number-too-long"), (b'{"id": "caf\xe9"}', "not-utf8")],
)
def test_odd_bodies_are_refused_in_the_error_shape(api: Any, body: bytes, code: str) -> None:  # noqa: F811
    client, pipeline, tokens = api
    response = client.post("/v1/jobs", content=body, headers=auth(tokens["all"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code
    assert pipeline.runtime.ledger.counts() == {}


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    missing = client.get("/v1/nothing-here", headers=auth(tokens["all"]))
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "not-found"
    wrong = client.put("/v1/jobs", headers=auth(tokens["all"]))
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.json()["errors"][0]["code"] == "method-not-allowed"
    long_id = "j" * 8_000
    echoed = client.get(f"/v1/jobs/{long_id}", headers=auth(tokens["all"]))
    assert echoed.status_code == 404 and long_id not in echoed.text
    assert len(echoed.content) < 500


def test_a_hold_reason_with_a_nul_or_line_break_is_refused(api: Any) -> None:  # noqa: F811
    client, pipeline, tokens = api
    reference = load_job("reminder.nb")["reference"]
    for reason, code in (("a\x00b", "nul-character"), ("line\nbreak", "unprintable")):
        response = client.post(
            f"/v1/cases/{reference}/hold", json={"reason": reason}, headers=auth(tokens["all"])
        )
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "reason",
            "code": code,
            "reason": response.json()["errors"][0]["reason"],
        }
    assert (
        pipeline.runtime.ledger.active_holds() == []
        if hasattr(pipeline.runtime.ledger, "active_holds")
        else True
    )


def test_a_chunked_body_is_not_read_past_the_limit(pipeline: Any) -> None:
    """A real server on loopback: the 413 comes while the client is still sending, after
    about the limit, not after the whole body (which would take the memory with it)."""
    from letters.http import create_app
    from letters.ledger import create_token
    from tests.live_server import serving

    token = create_token(pipeline.runtime.ledger, "all", {"submit"})
    chunk = b" " * (256 << 10)
    sent, answer = 0, b""
    with (
        serving(create_app(pipeline.runtime)) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as sock,
    ):
        sock.sendall(
            b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 10 * MAX_BODY_BYTES:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        while b"body-too-large" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body-too-large" in answer
    assert sent < 2 * MAX_BODY_BYTES, sent  # the server stopped reading near the limit


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Kari\u034fNordmann", "unprintable"),  # a combining grapheme joiner
        ("Kari Nordmann\ufe0f", "unprintable"),  # a variation selector
        ("Kari N\u043erdmann", "mixed-script"),  # Cyrillic о in a Latin word
        ("\u0391nne Hansen", "mixed-script"),  # Greek Alpha
    ],
)
def test_invisible_and_look_alike_letters_are_refused(name: str, code: str) -> None:
    from letters.validation import parse

    data = dict(load_job("reminder.nb"))
    data["debtor"] = dict(data["debtor"], name=name)
    with pytest.raises(JobRejected) as refused:
        parse(data)
    assert [(e.field, e.code) for e in refused.value.errors] == [("debtor.name", code)]


@given(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzæøåéüABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅÉÜ -'", max_size=60
    )
)
def test_norwegian_names_never_look_mixed(name: str) -> None:
    from letters import glyphs

    assert glyphs.mixed_scripts(name) == []
    assert glyphs.unprintable(name) == []


def test_options_names_every_method_of_a_path(api: Any) -> None:  # noqa: F811
    client, _, tokens = api
    reference = load_job("reminder.nb")["reference"]
    answer = client.options(f"/v1/cases/{reference}/hold")
    assert answer.status_code == 204
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"POST", "DELETE", "OPTIONS"}
    wrong = client.put(f"/v1/cases/{reference}/hold", headers=auth(tokens["all"]))
    assert wrong.status_code == 405
    assert {"POST", "DELETE"} <= {m.strip() for m in wrong.headers["allow"].split(",")}
