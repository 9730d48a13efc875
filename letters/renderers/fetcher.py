"""The only way a renderer may load a resource: files inside the template asset folder.

Every other URL (``http:``, ``https:``, ``data:``, ``file:`` outside the folder, paths that
climb out with ``..`` or through a symlink) is refused, and the refusal stops the render,
so a letter is never produced without a font it was meant to have.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from letters.paths import ASSET_DIR


class RefusedURL(ValueError):
    """A URL outside the asset folder was requested."""


def resolve_asset(url: str, root: Path = ASSET_DIR) -> Path:
    """The asset file ``url`` names, or :class:`RefusedURL`.

    >>> resolve_asset((ASSET_DIR / 'fonts' / 'NotoSans-Regular.ttf').as_uri()).name
    'NotoSans-Regular.ttf'
    >>> resolve_asset('file:///etc/passwd')
    Traceback (most recent call last):
        ...
    letters.renderers.fetcher.RefusedURL: refused file:///etc/passwd: outside the asset folder
    """
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise RefusedURL(f"refused {url}: only files in the asset folder may be loaded")
    if parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused {url}: remote file host")
    path = Path(unquote(parts.path)).resolve()
    base = root.resolve()
    if not path.is_relative_to(base):
        raise RefusedURL(f"refused {url}: outside the asset folder")
    if not path.is_file():
        raise RefusedURL(f"refused {url}: no such asset")
    return path


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint URL fetcher serving only :data:`ASSET_DIR`; refusals are fatal."""

    def __init__(self, root: Path = ASSET_DIR) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols={"file"})
        self.root = root

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        path = resolve_asset(url, self.root)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
