"""A TCP proxy in front of a real PostgreSQL that can lose the answer to a COMMIT.

The window it opens is the narrowest an outage has: the server committed, and the
connection breaks before the client hears so. Armed with :meth:`CommitCutter.cut`, the
proxy forwards everything as it is until the server's ``CommandComplete COMMIT`` number
``n`` (counted from the arming) comes back; that reply is swallowed and both sides of the
connection are closed, as a server killed at that instant or a cut network would leave
them. The commit stands in the database; the client sees a broken connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

#: The server's CommandComplete message for a COMMIT: 'C', length 11, the tag.
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"


class CommitCutter:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._countdown = 0  # 0: not armed
        self.fired = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, n: int) -> None:
        """Lose the answer to the ``n``-th COMMIT from now (1 = the next one)."""
        with self._lock:
            self._countdown = n
            self.fired.clear()

    def disarm(self) -> None:
        with self._lock:
            self._countdown = 0

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _should_cut(self, chunk: bytes) -> bool:
        with self._lock:
            if not self._countdown:
                return False
            self._countdown -= chunk.count(COMMIT_DONE)
            if self._countdown > 0:
                return False
            self._countdown = 0
            self.fired.set()
            return True

    def _pipe(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if from_server and COMMIT_DONE in chunk and self._should_cut(chunk):
                    break  # the commit landed; its answer never arrives
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()


@contextmanager
def commit_cutter(upstream: tuple[str, int]) -> Iterator[CommitCutter]:
    proxy = CommitCutter(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
