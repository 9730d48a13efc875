"""Handing closed print batches to the vendor: a drop folder and a real SFTP server
(asyncssh on loopback, :mod:`tests.sftp_server`)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from pydantic import SecretStr, ValidationError

from channels.base import PermanentError, RetriableError
from channels.printing.handoff import (
    DropFolder,
    HandoffConflict,
    HandoffReceipt,
    check_name,
    make_handoff,
    read_batch,
)
from channels.printing.handoff.sftp import SftpHandoff
from letters.codes import Code
from letters.config.handoff import HandoffSettings
from tests.sftp_server import SftpTestServer, running

PASSWORD = "correct-horse-7f3a9"


def close_batch(folder: Path, files: dict[str, bytes]) -> Path:
    """A closed batch as the batch closer writes it: files, SHA256SUMS, READY last."""
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    (folder / "SHA256SUMS").write_text(sums)
    (folder / "READY").write_text(f"{folder.name}\n{hashlib.sha256(sums.encode()).hexdigest()}\n")
    return folder


def batch_files(seed: str = "a") -> dict[str, bytes]:
    return {
        "00-cover.pdf": b"%PDF-1.7 cover " + seed.encode() * 100,
        "C4-001.pdf": b"%PDF-1.7 thick " + os.urandom(3000),
        "C5-001.pdf": b"%PDF-1.7 letters " + os.urandom(200_000),
        "manifest.csv": b"sequence;letter_id\n1;" + seed.encode() + b"\n",
        "manifest.json": b'{"letters": 1, "seed": "' + seed.encode() + b'"}\n',
    }


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return close_batch(tmp_path / "closed" / "PB000001", batch_files())


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (relative name → sha256), hidden ones included."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- names and batches -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../x", "..", ".hidden", "-rf", "a b.pdf", "x..pdf", "évil.pdf", "a/b", "x.pdf.part", ""],
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe file name"):
        check_name(name)


@pytest.mark.parametrize("name", ["PB000001", "00-cover.pdf", "C5-001.pdf", "manifest.csv"])
def test_batch_names_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("bad", [".evil.pdf", "bad name.pdf", "x.pdf.part", "ünï.pdf"])
def test_hostile_file_in_batch_is_refused_by_name(tmp_path: Path, bad: str) -> None:
    folder = close_batch(tmp_path / "PB000001", {"C5-001.pdf": b"x"})
    (folder / bad).write_bytes(b"y")
    target = tmp_path / "drop"
    target.mkdir()
    with pytest.raises(ValueError, match="unsafe file name") as caught:
        DropFolder(target).deliver(folder)
    assert repr(bad) in str(caught.value)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("bad", ["-PB1", ".PB1", "PB 1", "PB..1"])
def test_hostile_batch_name_is_refused(tmp_path: Path, bad: str) -> None:
    folder = close_batch(tmp_path / bad, {"C5-001.pdf": b"x"})
    with pytest.raises(ValueError, match="unsafe batch name"):
        read_batch(folder)


def test_hostile_name_inside_sha256sums_is_refused(tmp_path: Path) -> None:
    folder = close_batch(tmp_path / "PB000001", {"C5-001.pdf": b"x"})
    (folder / "SHA256SUMS").write_text(f"{'0' * 64}  ../../etc/passwd\n")
    with pytest.raises(ValueError, match=r"'\.\./\.\./etc/passwd'"):
        read_batch(folder)


def test_symlink_in_batch_is_refused(tmp_path: Path) -> None:
    folder = close_batch(tmp_path / "PB000001", {"C5-001.pdf": b"x"})
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the vendor")
    (folder / "C5-002.pdf").symlink_to(secret)
    with pytest.raises(ValueError, match=r"'C5-002\.pdf' .* not a regular file"):
        read_batch(folder)


def test_unclosed_or_inconsistent_batches_are_refused(tmp_path: Path) -> None:
    folder = close_batch(tmp_path / "PB000001", {"C5-001.pdf": b"x"})
    (folder / "READY").unlink()
    with pytest.raises(ValueError, match="not closed: it has no READY"):
        read_batch(folder)
    folder = close_batch(tmp_path / "PB000002", {"C5-001.pdf": b"x"})
    (folder / "C5-002.pdf").write_bytes(b"unlisted")
    with pytest.raises(ValueError, match=r"'C5-002\.pdf' .* not listed in SHA256SUMS"):
        read_batch(folder)


def test_file_changed_after_close_is_not_delivered(tmp_path: Path, batch: Path) -> None:
    (batch / "C5-001.pdf").write_bytes(b"%PDF tampered")
    target = tmp_path / "drop"
    target.mkdir()
    with pytest.raises(ValueError, match=r"'C5-001\.pdf' does not match SHA256SUMS"):
        DropFolder(target).deliver(batch)
    assert not (target / "PB000001" / "READY").exists()
    assert not (target / "PB000001").exists()


# --- drop folder -------------------------------------------------------------------------------


def test_drop_folder_delivers_the_identical_batch(tmp_path: Path, batch: Path) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    receipt = DropFolder(target).deliver(batch)
    assert tree(target / "PB000001") == tree(batch)
    assert [p.name for p in target.iterdir()] == ["PB000001"]  # no staging, no .part left
    assert receipt.target == str(target / "PB000001")
    assert receipt.batch == "PB000001"
    assert receipt.files[0] == "SHA256SUMS" and receipt.files[-1] == "READY"
    assert set(receipt.files) == {p.name for p in batch.iterdir()}
    assert receipt.total_bytes == sum(p.stat().st_size for p in batch.iterdir())
    assert receipt.sums_sha256 == hashlib.sha256((batch / "SHA256SUMS").read_bytes()).hexdigest()
    assert receipt.already_there is False


def test_drop_folder_redelivery_is_a_no_op(tmp_path: Path, batch: Path) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    handoff = DropFolder(target)
    first = handoff.deliver(batch)
    stamps = {p.name: p.stat().st_mtime_ns for p in (target / "PB000001").iterdir()}
    second = handoff.deliver(batch)
    assert second.already_there is True
    assert dataclasses.replace(second, already_there=False) == first
    assert {p.name: p.stat().st_mtime_ns for p in (target / "PB000001").iterdir()} == stamps


def test_drop_folder_never_overwrites_a_different_delivered_batch(
    tmp_path: Path, batch: Path
) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    other = close_batch(tmp_path / "other" / "PB000001", batch_files("b"))
    DropFolder(target).deliver(other)
    before = tree(target)
    with pytest.raises(HandoffConflict, match="different batch 'PB000001' with READY") as caught:
        DropFolder(target).deliver(batch)
    assert caught.value.code == Code.HANDOFF_CONFLICT
    assert tree(target) == before


def fail_once(monkeypatch: pytest.MonkeyPatch, when: Any) -> list[str]:
    """Make ``os.replace`` fail (as a full share or a lost mount would) the first time
    ``when(src, dst)`` holds."""
    real = os.replace
    failed: list[str] = []

    def replace(src: Any, dst: Any) -> None:
        if not failed and when(Path(src), Path(dst)):
            failed.append(Path(dst).name)
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return failed


def test_drop_folder_crash_mid_copy_then_retry_gives_one_complete_batch(
    tmp_path: Path, batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    failed = fail_once(monkeypatch, lambda src, dst: dst.name == "C5-001.pdf")
    with pytest.raises(RetriableError) as caught:
        DropFolder(target).deliver(batch)
    assert failed == ["C5-001.pdf"] and caught.value.code == Code.HANDOFF_IO
    assert "No space left" in str(caught.value)
    # Nothing the vendor would take: only the hidden staging folder, no READY anywhere.
    assert [p.name for p in target.iterdir()] == [".PB000001.incoming"]
    assert not list(target.rglob("READY"))
    # A crash proper would leave its .part file behind; the retry must clear it too.
    (target / ".PB000001.incoming" / ".C5-001.pdf.part").write_bytes(b"half")

    receipt = DropFolder(target).deliver(batch)
    assert receipt.already_there is False
    assert [p.name for p in target.iterdir()] == ["PB000001"]
    assert tree(target / "PB000001") == tree(batch)
    assert not [p for p in target.rglob("*") if p.name.endswith(".part")]


def test_drop_folder_crash_before_ready_is_completed_in_place(
    tmp_path: Path, batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    failed = fail_once(monkeypatch, lambda src, dst: dst.name == "READY")
    with pytest.raises(RetriableError) as caught:
        DropFolder(target).deliver(batch)
    assert failed == ["READY"] and caught.value.code == Code.HANDOFF_IO
    assert [p.name for p in target.iterdir()] == ["PB000001"]
    assert not (target / "PB000001" / "READY").exists()
    # A stale staging folder and a stray file from another attempt are cleared as well.
    (target / ".PB000001.incoming").mkdir()
    (target / "PB000001" / "C9-999.pdf").write_bytes(b"not in this batch")
    (target / "PB000001" / "manifest.csv").write_bytes(b"torn")

    assert DropFolder(target).deliver(batch).already_there is False
    assert [p.name for p in target.iterdir()] == ["PB000001"]
    assert tree(target / "PB000001") == tree(batch)


def test_drop_folder_ready_comes_last(
    tmp_path: Path, batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "drop"
    target.mkdir()
    real_replace, real_rename = os.replace, os.rename
    seen: list[tuple[str, set[str]]] = []

    def record(real: Any) -> Any:
        def call(src: Any, dst: Any) -> None:
            real(src, dst)
            final = target / "PB000001"
            present = {p.name for p in final.iterdir()} if final.is_dir() else set()
            seen.append((Path(dst).name, present))

        return call

    monkeypatch.setattr(os, "replace", record(real_replace))
    monkeypatch.setattr(os, "rename", record(real_rename))
    DropFolder(target).deliver(batch)
    assert seen[-1][0] == "READY"
    assert seen[-1][1] == {p.name for p in batch.iterdir()}
    assert all("READY" not in present for _, present in seen[:-1])


def test_missing_drop_folder_is_retriable_and_not_created(tmp_path: Path, batch: Path) -> None:
    target = tmp_path / "share-not-mounted"
    with pytest.raises(RetriableError, match="not available") as caught:
        DropFolder(target).deliver(batch)
    assert caught.value.code == Code.HANDOFF_UNAVAILABLE
    assert not target.exists()


# --- SFTP --------------------------------------------------------------------------------------


@pytest.fixture
def sftp(tmp_path: Path) -> Iterator[SftpTestServer]:
    root = tmp_path / "sftp-root"
    (root / "inbox").mkdir(parents=True)
    with running(root, tmp_path / "keys", password=PASSWORD) as server:
        yield server


def sftp_handoff(server: SftpTestServer, **changes: Any) -> SftpHandoff:
    options: dict[str, Any] = {
        "username": server.username,
        "remote_dir": "/inbox",
        "key_file": server.client_key_file,
        "known_hosts": server.known_hosts_file,
        "timeout": 5.0,
    }
    options.update(changes)
    return SftpHandoff(server.host, server.port, **options)


def remote_batches(server: SftpTestServer) -> list[str]:
    return sorted(p.name for p in (server.root / "inbox").iterdir())


def test_sftp_upload_lands_the_identical_files_ready_last(
    sftp: SftpTestServer, batch: Path
) -> None:
    receipt = sftp_handoff(sftp).deliver(batch)
    remote = sftp.root / "inbox" / "PB000001"
    assert remote_batches(sftp) == ["PB000001"]
    assert tree(remote) == tree(batch)  # same names, same sha256, no .part left
    assert receipt.target == f"sftp://vendor@127.0.0.1:{sftp.port}/inbox/PB000001"
    assert receipt.already_there is False
    assert receipt.sums_sha256 == hashlib.sha256((batch / "SHA256SUMS").read_bytes()).hexdigest()

    events = sftp.events
    assert events[0] == ("mkdir", "/inbox/PB000001")
    # Every file is written under .part and renamed; READY is the very last thing done.
    renamed = [e[2].rsplit("/", 1)[1] for e in events if e[0] == "rename"]
    assert sorted(renamed) == sorted(p.name for p in batch.iterdir())
    assert renamed[-1] == "READY"
    assert events[-1] == ("rename", "/inbox/PB000001/READY.part", "/inbox/PB000001/READY")
    assert all(e[1].endswith(".part") for e in events if e[0] == "write")
    assert sftp.auth_attempts == [("publickey", "vendor")]


def test_sftp_redelivery_is_a_no_op(sftp: SftpTestServer, batch: Path) -> None:
    handoff = sftp_handoff(sftp)
    first = handoff.deliver(batch)
    count = len(sftp.events)
    second = handoff.deliver(batch)
    assert second.already_there is True
    assert dataclasses.replace(second, already_there=False) == first
    assert sftp.events[count:] == []  # nothing written, renamed or removed


def test_sftp_never_overwrites_a_different_delivered_batch(
    sftp: SftpTestServer, batch: Path, tmp_path: Path
) -> None:
    other = close_batch(tmp_path / "other" / "PB000001", batch_files("b"))
    sftp_handoff(sftp).deliver(other)
    before = tree(sftp.root)
    with pytest.raises(HandoffConflict, match="different batch 'PB000001'") as caught:
        sftp_handoff(sftp).deliver(batch)
    assert caught.value.code == Code.HANDOFF_CONFLICT
    assert tree(sftp.root) == before


def test_sftp_dropped_connection_is_retriable_and_a_retry_completes_one_batch(
    sftp: SftpTestServer, batch: Path
) -> None:
    sftp.drop_connection_on_write(3)  # SHA256SUMS and 00-cover.pdf go up; C4-001.pdf does not
    with pytest.raises(RetriableError) as caught:
        sftp_handoff(sftp).deliver(batch)
    assert caught.value.code == Code.HANDOFF_TRANSFER
    assert f"upload to SFTP server 127.0.0.1:{sftp.port} failed" in str(caught.value)
    remote = sftp.root / "inbox" / "PB000001"
    assert not (remote / "READY").exists()
    assert {p.name for p in remote.iterdir()} == {"SHA256SUMS", "00-cover.pdf"}
    done = len(sftp.events)

    receipt = sftp_handoff(sftp).deliver(batch)
    assert receipt.already_there is False
    assert remote_batches(sftp) == ["PB000001"]
    assert tree(remote) == tree(batch)
    # The retry kept what was complete and sent only the rest, READY last.
    written = [e[1].rsplit("/", 1)[1] for e in sftp.events[done:] if e[0] == "write"]
    assert written == [
        "C4-001.pdf.part",
        "C5-001.pdf.part",
        "manifest.csv.part",
        "manifest.json.part",
        "READY.part",
    ]


def test_sftp_retry_replaces_a_half_delivered_other_batch(
    sftp: SftpTestServer, batch: Path, tmp_path: Path
) -> None:
    other = close_batch(tmp_path / "other" / "PB000001", batch_files("b"))
    sftp.drop_connection_on_write(4)
    with pytest.raises(RetriableError) as caught:
        sftp_handoff(sftp).deliver(other)
    assert caught.value.code == Code.HANDOFF_TRANSFER
    remote = sftp.root / "inbox" / "PB000001"
    (remote / "C5-001.pdf.part").write_bytes(b"torn upload")
    assert not (remote / "READY").exists()

    sftp_handoff(sftp).deliver(batch)
    assert remote_batches(sftp) == ["PB000001"]
    assert tree(remote) == tree(batch)


def test_sftp_password_authentication(sftp: SftpTestServer, batch: Path) -> None:
    handoff = sftp_handoff(sftp, key_file=None, password=SecretStr(PASSWORD))
    assert handoff.deliver(batch).already_there is False
    assert sftp.auth_attempts == [("password", "vendor")]
    assert PASSWORD not in repr(handoff)


def test_sftp_pinned_fingerprint_without_known_hosts(sftp: SftpTestServer, batch: Path) -> None:
    handoff = sftp_handoff(sftp, known_hosts=None, host_key_sha256=sftp.host_key_sha256)
    assert handoff.deliver(batch).already_there is False


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    text = "".join(traceback.format_exception(exc))
    for secret in secrets:
        assert secret not in text


def test_unknown_host_key_is_refused_before_any_credential_is_sent(
    sftp: SftpTestServer, batch: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    handoff = sftp_handoff(sftp, known_hosts=empty, password=SecretStr(PASSWORD))
    with pytest.raises(PermanentError) as caught:
        handoff.deliver(batch)
    assert caught.value.code == Code.HANDOFF_HOST_KEY
    message = str(caught.value)
    assert f"is not in known_hosts for [127.0.0.1]:{sftp.port}" in message
    assert sftp.host_key_sha256 in message  # what to check with the vendor
    assert sftp.auth_attempts == []
    assert remote_batches(sftp) == []


def test_changed_host_key_is_refused(sftp: SftpTestServer, batch: Path, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    wrong = tmp_path / "known_hosts_wrong"
    wrong.write_text(sftp.known_hosts_line(impostor))
    with pytest.raises(PermanentError, match="does not match the key known_hosts has") as caught:
        sftp_handoff(sftp, known_hosts=wrong).deliver(batch)
    assert caught.value.code == Code.HANDOFF_HOST_KEY
    pin = impostor.get_fingerprint("sha256")
    with pytest.raises(PermanentError, match="does not match the pinned fingerprint") as caught:
        sftp_handoff(sftp, known_hosts=None, host_key_sha256=pin).deliver(batch)
    assert caught.value.code == Code.HANDOFF_HOST_KEY
    # Both configured: both must agree.
    with pytest.raises(PermanentError, match="pinned fingerprint") as caught:
        sftp_handoff(sftp, host_key_sha256=pin).deliver(batch)
    assert caught.value.code == Code.HANDOFF_HOST_KEY
    assert sftp.auth_attempts == []
    assert remote_batches(sftp) == []


def test_no_host_key_trust_configured_is_refused() -> None:
    with pytest.raises(ValueError, match="known_hosts or host_key_sha256"):
        SftpHandoff("127.0.0.1", 22, username="u", password=SecretStr("p"))


@pytest.mark.filterwarnings("ignore:.*bcrypt.kdf")  # 1 round: a fast test key
def test_wrong_key_or_password_is_a_permanent_auth_error_without_secrets(
    sftp: SftpTestServer, batch: Path, tmp_path: Path
) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    passphrase = "key-passphrase-51d2"
    key_file = tmp_path / "stranger_ed25519"
    stranger.write_private_key(str(key_file), passphrase=passphrase, rounds=1)
    handoff = sftp_handoff(sftp, key_file=key_file, key_passphrase=SecretStr(passphrase))
    with pytest.raises(PermanentError) as caught:
        handoff.deliver(batch)
    assert caught.value.code == Code.HANDOFF_AUTH
    assert "refused the credentials of user 'vendor'" in str(caught.value)
    assert_no_secret(caught.value, passphrase)

    wrong_password = "wrong-password-c0ffee"
    handoff = sftp_handoff(sftp, key_file=None, password=SecretStr(wrong_password))
    with pytest.raises(PermanentError) as caught:
        handoff.deliver(batch)
    assert caught.value.code == Code.HANDOFF_AUTH
    assert_no_secret(caught.value, wrong_password, PASSWORD)
    assert remote_batches(sftp) == []


@pytest.mark.filterwarnings("ignore:.*bcrypt.kdf")  # 1 round: a fast test key
def test_wrong_key_passphrase_is_a_configuration_error(
    sftp: SftpTestServer, batch: Path, tmp_path: Path
) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "locked_ed25519"
    key.write_private_key(str(key_file), passphrase="the-real-one", rounds=1)
    guess = "a-wrong-guess-99"
    handoff = sftp_handoff(sftp, key_file=key_file, key_passphrase=SecretStr(guess))
    with pytest.raises(PermanentError, match="cannot load the SFTP key file") as caught:
        handoff.deliver(batch)
    assert caught.value.code == Code.HANDOFF_CONFIG
    assert_no_secret(caught.value, guess, "the-real-one")


def test_missing_remote_dir_is_a_configuration_error(sftp: SftpTestServer, batch: Path) -> None:
    with pytest.raises(PermanentError, match="/outbox is not a directory") as caught:
        sftp_handoff(sftp, remote_dir="/outbox").deliver(batch)
    assert caught.value.code == Code.HANDOFF_REMOTE_DIR


def test_connection_refused_is_retriable(batch: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    handoff = SftpHandoff(
        "127.0.0.1", port, username="u", password=SecretStr(PASSWORD), known_hosts=known_hosts
    )
    with pytest.raises(RetriableError, match="unreachable") as caught:
        handoff.deliver(batch)
    assert caught.value.code == Code.HANDOFF_CONNECTION
    assert_no_secret(caught.value, PASSWORD)


def test_silent_server_times_out_retriably(batch: Path, tmp_path: Path) -> None:
    """A peer that accepts the connection and never speaks SSH."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        handoff = SftpHandoff(
            "127.0.0.1",
            listener.getsockname()[1],
            username="u",
            password=SecretStr(PASSWORD),
            host_key_sha256="SHA256:" + "A" * 43,
            timeout=0.5,
        )
        with pytest.raises(RetriableError) as caught:
            handoff.deliver(batch)
        assert caught.value.code == Code.HANDOFF_CONNECTION
        assert "SSH handshake failed" in str(caught.value)
    finally:
        thread.join(5)
        for sock in accepted:
            sock.close()
        listener.close()


# --- configuration -----------------------------------------------------------------------------


def test_make_handoff_from_settings(tmp_path: Path) -> None:
    assert make_handoff(HandoffSettings()) is None
    folder = make_handoff(HandoffSettings(kind="folder", folder=tmp_path))
    assert isinstance(folder, DropFolder) and folder.target == tmp_path
    settings = HandoffSettings.model_validate(
        {
            "kind": "sftp",
            "sftp": {
                "host": "sftp.vendor.example",
                "port": 2222,
                "username": "fjord",
                "password": PASSWORD,
                "host_key_sha256": "SHA256:" + "b" * 43 + "=",
                "remote_dir": "/incoming/",
                "timeout_seconds": 12,
            },
        }
    )
    sftp = make_handoff(settings)
    assert isinstance(sftp, SftpHandoff)
    assert (sftp.host, sftp.port, sftp.username) == ("sftp.vendor.example", 2222, "fjord")
    assert sftp.remote_dir == "/incoming" and sftp.timeout == 12
    assert sftp.host_key_sha256 == "SHA256:" + "b" * 43
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(sftp)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "folder"}, "needs handoff.folder"),
        ({"kind": "sftp", "sftp": {"username": "u", "password": "p"}}, "needs sftp.host"),
        (
            {"kind": "sftp", "sftp": {"host": "h", "username": "u", "password": "p"}},
            "known_hosts or sftp.host_key_sha256",
        ),
        (
            {"kind": "sftp", "sftp": {"host": "h", "username": "u", "known_hosts": "/k"}},
            "key_file or sftp.password",
        ),
        (
            {
                "kind": "sftp",
                "sftp": {"host": "h", "username": "u", "password": "p", "host_key_sha256": "md5"},
            },
            "SHA256 fingerprint",
        ),
    ],
)
def test_incomplete_settings_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HandoffSettings.model_validate(data)


def test_receipt_is_frozen_and_serialisable() -> None:
    receipt = HandoffReceipt("t", "PB1", ("SHA256SUMS", "READY"), 3, "0" * 64, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.already_there = True  # type: ignore[misc]
    assert dataclasses.asdict(receipt)["target"] == "t"
