"""A real SFTP server for tests: asyncssh on 127.0.0.1 (ephemeral port) in a background
thread with its own event loop, chrooted to a folder.

It has a fresh ed25519 host key, accepts one user by public key (a client key it generates
and writes to ``client_key_file``) and, optionally, by password. It records what clients
do (write-opens, renames, mkdirs, removes, authentication attempts) in order, and can be
told to drop the connection when a client opens its Nth file for writing (a crash
mid-upload); that happens once.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncssh

FXF_WRITE = 0x02


class _State:
    def __init__(self, root: Path, username: str, password: str | None) -> None:
        self.root = root
        self.username = username
        self.password = password
        self.authorized: list[asyncssh.SSHKey] = []
        self.events: list[tuple[str, ...]] = []
        self.auth_attempts: list[tuple[str, str]] = []  # (method, username), never secrets
        self.write_opens = 0
        self.drop_on_write: int | None = None
        self.lock = threading.Lock()

    def record(self, *event: str) -> None:
        with self.lock:
            self.events.append(event)


class _Auth(asyncssh.SSHServer):
    def __init__(self, state: _State) -> None:
        self.state = state

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self.state.auth_attempts.append(("publickey", username))
        return username == self.state.username and any(
            key.public_data == k.public_data for k in self.state.authorized
        )

    def password_auth_supported(self) -> bool:
        return self.state.password is not None

    def validate_password(self, username: str, password: str) -> bool:
        self.state.auth_attempts.append(("password", username))
        expected = self.state.password
        return (
            expected is not None
            and username == self.state.username
            and hmac.compare_digest(password.encode(), expected.encode())
        )


class _RecordingSFTP(asyncssh.SFTPServer):
    def __init__(self, chan: Any, state: _State) -> None:
        super().__init__(chan, chroot=str(state.root).encode())
        self.state = state

    def open(self, path: bytes, pflags: int, attrs: Any) -> Any:
        if pflags & FXF_WRITE:
            with self.state.lock:
                self.state.write_opens += 1
                drop = self.state.drop_on_write == self.state.write_opens
                if drop:
                    self.state.drop_on_write = None
            if drop:
                self.state.record("dropped", path.decode())
                self.connection.abort()
                raise asyncssh.SFTPFailure("connection dropped")
            self.state.record("write", path.decode())
        return super().open(path, pflags, attrs)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> Any:
        self.state.record("rename", oldpath.decode(), newpath.decode())
        return super().posix_rename(oldpath, newpath)

    def rename(self, oldpath: bytes, newpath: bytes) -> Any:
        self.state.record("rename", oldpath.decode(), newpath.decode())
        return super().rename(oldpath, newpath)

    def mkdir(self, path: bytes, attrs: Any) -> Any:
        self.state.record("mkdir", path.decode())
        return super().mkdir(path, attrs)

    def remove(self, path: bytes) -> Any:
        self.state.record("remove", path.decode())
        return super().remove(path)


class SftpTestServer:
    """Start with :func:`running`; ``port``, ``known_hosts_file``, ``host_key_sha256`` and
    ``client_key_file`` are what a client needs."""

    def __init__(self, root: Path, keys: Path, username: str, password: str | None) -> None:
        self.state = _State(root, username, password)
        self.root = root
        self.username = username
        self.host = "127.0.0.1"
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_sha256: str = self.host_key.get_fingerprint("sha256")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.state.authorized.append(client_key)
        keys.mkdir(parents=True, exist_ok=True)
        self.client_key_file = keys / "client_ed25519"
        client_key.write_private_key(str(self.client_key_file))
        self.client_key_file.chmod(0o600)
        self.known_hosts_file = keys / "known_hosts"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._acceptor: Any = None

    @property
    def events(self) -> list[tuple[str, ...]]:
        with self.state.lock:
            return list(self.state.events)

    @property
    def auth_attempts(self) -> list[tuple[str, str]]:
        return list(self.state.auth_attempts)

    def drop_connection_on_write(self, n: int) -> None:
        """Abort the connection when a client opens its ``n``-th file for writing (counted
        from now), once."""
        with self.state.lock:
            self.state.drop_on_write = self.state.write_opens + n

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        public = (key or self.host_key).export_public_key("openssh").decode().split()
        return f"[{self.host}]:{self.port} {public[0]} {public[1]}\n"

    async def _listen(self) -> Any:
        state = self.state
        return await asyncssh.listen(
            self.host,
            0,
            server_host_keys=[self.host_key],
            server_factory=lambda: _Auth(state),
            sftp_factory=lambda chan: _RecordingSFTP(chan, state),
            allow_scp=False,
        )

    async def _close(self) -> None:
        self._acceptor.close()
        await self._acceptor.wait_closed()

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._acceptor = future.result(10)
        self.port = self._acceptor.get_port()
        self.known_hosts_file.write_text(self.known_hosts_line())

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)

        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(_cancel_rest(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def running(
    root: Path, keys: Path, username: str = "vendor", password: str | None = None
) -> Iterator[SftpTestServer]:
    """A started server, stopped afterwards."""
    server = SftpTestServer(root, keys, username, password)
    server.start()
    try:
        yield server
    finally:
        server.stop()
