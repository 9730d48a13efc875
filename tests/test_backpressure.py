"""Backpressure at the HTTP intake, on a real server on loopback: while the workers owe
``LETTERS_INTAKE__MAX_QUEUE`` jobs, new jobs get 429 with Retry-After and
``intake-queue-full`` and nothing is stored; jobs accepted before are answered as before;
once the workers catch up, the same jobs are taken."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

import httpx
from dramatiq import Worker
from sqlalchemy import event

from letters.backpressure import REFRESH_SECONDS, Gate
from letters.config import Intake
from letters.http import create_app
from letters.ledger import create_token
from tests.conftest import Pipeline, load_job
from tests.faults import tally
from tests.live_server import serving


def _jobs(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        job = copy.deepcopy(load_job("reminder.nb"))
        job["id"], job["reference"] = f"full-{i:03d}", f"FULL-{i:06d}"
        out.append(job)
    return out


def _queue_full(client: httpx.Client) -> float:
    found = re.search(r"^letters_jobs_queue_full_total (\S+)$", client.get("/metrics").text, re.M)
    assert found, "no letters_jobs_queue_full_total in /metrics"
    return float(found[1])


def _limit(pipeline: Pipeline, max_queue: int, retry_after: int) -> None:
    settings = pipeline.runtime.settings
    intake = Intake(max_queue=max_queue, retry_after_seconds=retry_after)
    pipeline.runtime.settings = settings.model_copy(update={"intake": intake})


def test_a_full_queue_answers_429_until_the_workers_catch_up(
    pipeline: Pipeline, worker: Worker
) -> None:
    _limit(pipeline, max_queue=3, retry_after=7)
    ledger = pipeline.runtime.ledger
    token = create_token(ledger, "upstream", {"submit"})
    jobs = _jobs(6)
    worker.pause()  # the workers fall behind: every accepted job stays owed
    paused = True
    try:
        with (
            serving(create_app(pipeline.runtime)) as port,
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ) as client,
        ):
            before = _queue_full(client)
            taken = [client.post("/v1/jobs", json=job) for job in jobs[:3]]
            assert [r.status_code for r in taken] == [202, 202, 202]

            full = client.post("/v1/jobs", json=jobs[3])
            assert full.status_code == 429, full.text
            assert full.headers["Retry-After"] == "7"
            [error] = full.json()["errors"]
            assert (error["field"], error["code"]) == ("(request)", "intake-queue-full")
            assert "send it again in 7 seconds" in error["reason"]
            assert ledger.job(jobs[3]["id"]) is None  # nothing stored

            # a job accepted before is answered as before, full queue or not
            again = client.post("/v1/jobs", json=jobs[0])
            assert again.status_code == 200
            assert again.json()["letter_id"] == taken[0].json()["letter_id"]
            changed = client.post("/v1/jobs", json=dict(jobs[0], language="en"))
            assert changed.status_code == 409
            assert changed.json()["errors"][0]["code"] == "job-conflict"
            known = client.post("/v1/jobs", json=[jobs[1], jobs[2]])
            assert known.status_code == 200
            assert [i["status"] for i in known.json()["items"]] == ["existing", "existing"]
            # a batch with one new job is refused whole: none of it is stored
            mixed = client.post("/v1/jobs", json=[jobs[1], jobs[4]])
            assert mixed.status_code == 429 and mixed.headers["Retry-After"] == "7"
            assert ledger.job(jobs[4]["id"]) is None

            # the Python intake (letters enqueue, letters run) is not held back; it counts
            pipeline.submit(jobs[5])
            assert ledger.in_progress() == 4
            assert _queue_full(client) - before == 3  # jobs 3, then 1 and 4

            worker.resume()
            paused = False
            pipeline.drain()
            assert ledger.in_progress() == 0
            # the depth is read again within REFRESH_SECONDS: the resend is taken
            deadline = time.monotonic() + 10 * REFRESH_SECONDS
            while (resent := client.post("/v1/jobs", json=jobs[3])).status_code == 429:
                assert time.monotonic() < deadline, "still refused after the queue drained"
                time.sleep(0.1)
            assert resent.status_code == 202, resent.text
            assert client.post("/v1/jobs", json=[jobs[4]]).json()["accepted"] == 1
            pipeline.drain()
    finally:
        if paused:
            worker.resume()
            pipeline.drain()
    counts = tally("intake-queue-full", ledger)
    assert (counts.jobs, counts.duplicates, counts.lost) == (6, 0, 0)


def test_the_depth_is_read_from_the_ledger_once_a_second_not_per_request(
    pipeline: Pipeline,
) -> None:
    _limit(pipeline, max_queue=1, retry_after=1)
    ledger = pipeline.runtime.ledger
    counted: list[str] = []

    @event.listens_for(ledger.engine, "before_cursor_execute")
    def _seen(*args: Any) -> None:
        statement = str(args[2]).lower()
        if "count(" in statement and "status in" in statement:
            counted.append(statement)

    now = [100.0]
    gate = Gate(lambda: pipeline.runtime, clock=lambda: now[0])
    answers = [gate.refusal({"id": f"new-{i}"}) for i in range(50)]
    assert answers == [None] * 50 and len(counted) == 1  # 0 owed: taken, one count
    gate.took(1)  # one accepted here: the limit is reached before the next read
    full = gate.refusal({"id": "new-x"})
    assert full is not None and (full.depth, full.limit, full.retry_after) == (1, 1, 1)
    now[0] += REFRESH_SECONDS
    assert gate.refusal({"id": "new-y"}) is None  # the ledger says 0 owed after all
    assert len(counted) == 2
    event.remove(ledger.engine, "before_cursor_execute", _seen)


def test_openapi_names_the_429_and_its_retry_after(pipeline: Pipeline) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(pipeline.runtime)) as client:
        spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/v1/jobs"]["post"]["responses"]["429"]
    assert "intake-queue-full" in answer["description"]
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
