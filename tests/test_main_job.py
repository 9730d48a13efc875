"""The main job as an operator runs it (`letters run fixtures/jobs` in a subprocess) with
every channel configured against real peers on loopback: the Digipost contract server, an
SMTP server with STARTTLS and login, and the print vendor's SFTP server. Each letter goes
through exactly one channel, and `letters status` shows where."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from letters.ledger import Ledger
from letters.ledger.models import AttemptRow, LetterRow
from tests.conftest import JOB_FILES, REHEARSAL_RULES, load_job
from tests.digipost_keys import SENDER_ID, Keys, contract_server
from tests.digipost_server import load_schema
from tests.letters_command import run
from tests.sftp_server import running
from tests.smtp_server import SmtpServer

# `letters run` in a subprocess against three servers
pytestmark = pytest.mark.slow

KARI = "15038512363"  # the debtor of the five nb fixtures: a Digipost user here


def test_the_main_job_delivers_each_letter_through_exactly_one_channel(
    tmp_path: Path,
    keys: Keys,
    smtp_server: SmtpServer,
) -> None:
    inbox, smtp_port, _ = smtp_server
    vendor = tmp_path / "vendor"
    (vendor / "inbox").mkdir(parents=True)
    database = tmp_path / "ledger.db"
    with (
        contract_server({KARI}, schema=load_schema()) as digipost,
        running(vendor, tmp_path / "keys") as sftp,
    ):
        env = {
            "LETTERS_CLOCK_DATE": "2026-11-20",
            "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
            "DATABASE_URL": f"sqlite:///{database}",
            "LETTERS_ARCHIVE_DIR": str(tmp_path / "archive"),
            "LETTERS_PRINTING__FOLDER": str(tmp_path / "print"),
            "LETTERS_PRINTING__HANDOFF__KIND": "sftp",
            "LETTERS_PRINTING__HANDOFF__SFTP__HOST": sftp.host,
            "LETTERS_PRINTING__HANDOFF__SFTP__PORT": str(sftp.port),
            "LETTERS_PRINTING__HANDOFF__SFTP__USERNAME": sftp.username,
            "LETTERS_PRINTING__HANDOFF__SFTP__KEY_FILE": str(sftp.client_key_file),
            "LETTERS_PRINTING__HANDOFF__SFTP__HOST_KEY_SHA256": sftp.host_key_sha256,
            "LETTERS_PRINTING__HANDOFF__SFTP__REMOTE_DIR": "inbox",
            "LETTERS_DIGIPOST__BASE_URL": digipost.url,
            "LETTERS_DIGIPOST__SENDER_ID": str(SENDER_ID),
            "LETTERS_DIGIPOST__KEY_PATH": str(keys.sender_pem),
            "LETTERS_SMTP__HOST": "localhost",
            "LETTERS_SMTP__PORT": str(smtp_port),
            "LETTERS_SMTP__USERNAME": "letters",
            "LETTERS_SMTP__PASSWORD": "s3cret",
            "LETTERS_SMTP__CA_FILE": str(tmp_path / "cert.pem"),
        }
        done = run("run", "fixtures/jobs", **env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Print batch PB000001 closed" in done.stdout
        assert "handed off" in done.stdout
        overview = run("status", "--json", **env)
        stored = list(digipost.stored)
    assert digipost.problems == []

    ledger = Ledger(f"sqlite:///{database}")
    with ledger.session() as s:
        letters = {row.job_id: row for row in s.query(LetterRow)}
        delivered = [
            (a.letter_id, a.channel)
            for a in s.query(AttemptRow).filter(AttemptRow.status == "delivered")
        ]
    jobs = {load_job(p.stem)["id"]: load_job(p.stem) for p in JOB_FILES}
    assert set(letters) == set(jobs)
    # exactly one delivered attempt per letter
    assert sorted(lid for lid, _ in delivered) == sorted(r.id for r in letters.values())
    channel_of = dict(delivered)
    by_channel: dict[str, set[str]] = {}
    for job_id, row in letters.items():
        by_channel.setdefault(channel_of[row.id], set()).add(job_id)
    digital = {j for j, job in jobs.items() if job["debtor"].get("national_id") == KARI}
    assert by_channel["digipost"] == digital and len(digital) == 5
    assert by_channel["email"] == {"edge-foreign-0001"}  # consents to e-mail, not Digipost
    assert by_channel["print"] == set(jobs) - digital - {"edge-foreign-0001"}

    sha_of = {row.id: row.pdf_sha256 for row in letters.values()}
    # Digipost holds exactly the archived PDFs of its letters, with the inkasso data
    assert sorted(m.pdf_sha256 for m in stored) == sorted(sha_of[letters[j].id] for j in digital)
    # a payment plan's inkasso data is its first instalment: amount, agreed day, own KID
    [plan] = [m for m in stored if m.pdf_sha256 == sha_of[letters["plan-nb-0001"].id]]
    inkasso = "//d:data-type/t:inkasso/t:"
    assert plan.find(inkasso + "sum") == "1383.75"
    assert plan.find(inkasso + "due-date") == "2026-12-01T00:00:00+01:00"
    assert plan.find(inkasso + "kid") not in (None, letters["plan-nb-0001"].kid)
    # the e-mail arrived with the letter attached
    [(recipients, message)] = inbox.received
    assert recipients == [jobs["edge-foreign-0001"]["debtor"]["email"]]
    foreign = letters["edge-foreign-0001"].id
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"letter-{foreign}.pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == sha_of[foreign]
    # the print vendor got the closed batch over SFTP, with exactly the print letters
    handed = vendor / "inbox" / "PB000001"
    assert (handed / "READY").exists()
    with (handed / "manifest.csv").open(encoding="utf-8") as fh:
        printed = {r["letter_id"] for r in csv.DictReader(fh)}
    assert printed == {letters[j].id for j in by_channel["print"]}
    # and `letters status` tells the same story
    assert overview.returncode == 0, overview.stderr
    view: dict[str, Any] = json.loads(overview.stdout)
    assert view["jobs"] == {"delivered": len(jobs)}
    printed_count = len(by_channel["print"])
    assert view["delivered_by_channel"] == {"digipost": 5, "email": 1, "print": printed_count}
    [batch] = view["print_batches"]
    assert (batch["id"], batch["status"], batch["letters"]) == (
        "PB000001",
        "handed_off",
        printed_count,
    )
    one = run("status", "rem-nb-0001", **env)
    assert "digipost delivered" in one.stdout
    printed_job = run("status", "rem-en-0001", **env)
    assert "joined print batch" in printed_job.stdout and "PB000001" in printed_job.stdout
