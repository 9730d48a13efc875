"""The renderer fetches nothing outside its asset folder; templates are sandboxed."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from letters.codes import Code
from letters.paths import ASSET_DIR, TEMPLATE_DIR
from letters.renderers import RenderError
from letters.renderers.fetcher import AssetFetcher, RefusedURL, resolve_asset
from letters.renderers.registry import get_renderer
from letters.templating import make_environment, working_copy

FONT = ASSET_DIR / "fonts" / "NotoSans-Regular.ttf"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/letter.css",
        "https://example.com/font.ttf",
        "data:text/css,body{}",
        "ftp://example.com/x",
        (ASSET_DIR / "fonts" / ".." / ".." / "letter.css").as_uri(),
        FONT.as_uri().replace("file://", "file://evil.example"),
        (ASSET_DIR / "fonts" / "missing.ttf").as_uri(),
    ],
)
def test_fetcher_refuses_everything_but_asset_files(url: str) -> None:
    with pytest.raises(RefusedURL):
        resolve_asset(url)


def test_fetcher_serves_asset_files() -> None:
    response = AssetFetcher().fetch(FONT.as_uri())
    assert response.read() == FONT.read_bytes()


class RecordingFetcher(AssetFetcher):
    """The asset fetcher, noting each URL its own fetch refuses."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> object:
        try:
            return super().fetch(url, headers)
        except RefusedURL:
            self.refused.append(url)
            raise


def test_fetcher_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    root.mkdir()
    (root / "passwd.css").symlink_to("/etc/passwd")
    fetcher = RecordingFetcher(root)
    with pytest.raises(RefusedURL):
        fetcher.fetch((root / "passwd.css").as_uri())
    assert fetcher.refused == [(root / "passwd.css").as_uri()]


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.mark.parametrize(
    "snippet",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="{base}/evil.css">',
        '<img src="{base}/pixel.png">',
        '<div style="background: url({base}/bg.png)">x</div>',
    ],
)
def test_rendering_html_that_reaches_out_fails_and_sends_nothing(
    http_server: tuple[str, list[str]], snippet: str
) -> None:
    base, hits = http_server
    html = f"<html><body><p>Hei</p>{snippet.format(base=base)}</body></html>"
    with pytest.raises(RenderError, match="refused") as refused:
        get_renderer().render(html)
    assert refused.value.code is Code.OUTSIDE_SUBSET
    assert hits == []


def test_templates_are_sandboxed_autoescaped_and_strict() -> None:
    env = make_environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{% set x = [] %}{{ x.append(1) }}").render()
    with pytest.raises(UndefinedError):
        env.from_string("{{ no_such_thing }}").render()
    assert env.from_string("{{ name }}").render(name="<b>&") == "&lt;b&gt;&amp;"


def test_template_fingerprint_changes_when_shared_layout_changes(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, copy)
    before = working_copy("reminder", "nb", copy).sha256
    assert before == working_copy("reminder", "nb", TEMPLATE_DIR).sha256
    css = copy / "letter.css"
    css.write_text(css.read_text() + "\np { color: red; }\n")
    assert working_copy("reminder", "nb", copy).sha256 != before
    font = copy / "assets" / "fonts" / "NotoSans-Bold.ttf"
    changed = working_copy("reminder", "nb", copy).sha256
    font.write_bytes(font.read_bytes() + b"\0")
    assert working_copy("reminder", "nb", copy).sha256 != changed  # a font is part of it too


def test_no_plaintext_password_in_reprs() -> None:
    from letters.produce import produce
    from tests.conftest import load_job

    p = produce(load_job("reminder.nb"))
    secret = p.composed.letter.password.reveal()
    compact = secret.replace(" ", "")
    for shown in (repr(p), repr(p.composed.letter), repr(p.credential), repr(p.composed)):
        assert secret not in shown and compact not in shown
    assert secret in p.html  # where it belongs: in the letter itself
