"""The renderer interface: what every renderer takes (letter HTML), gives (:class:`Rendered`)
and raises (:class:`RenderError`). The renderers by name are in :mod:`.registry`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from letters.codes import Code


class RenderError(Exception):
    """The letter could not be rendered: a stable ``code`` (family "render") says what kind
    of failure, the message says why in words.

    >>> error = RenderError(Code.LAYOUT_FAILED, "a box is taller than a page")
    >>> error.code, str(error)
    (<Code.LAYOUT_FAILED: 'layout-failed'>, 'a box is taller than a page')
    """

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:
        # rebuilt from code and message, whatever a subclass's constructor takes
        return (_rebuild, (type(self), self.code, self.message))


def _rebuild(cls: type[RenderError], code: Code, message: str) -> RenderError:
    error = cls.__new__(cls)
    RenderError.__init__(error, code, message)
    return error


class OutsideSubset(RenderError):
    """The letter's HTML or CSS uses something outside the subset both renderers lay out
    alike (:data:`~letters.codes.Code.OUTSIDE_SUBSET`)."""

    def __init__(self, message: str) -> None:
        super().__init__(Code.OUTSIDE_SUBSET, message)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    renderer: str  # the renderer's registry name, as the ledger records it


class Renderer(ABC):
    """Turns letter HTML into PDF bytes. Instances are reused across letters, so expensive
    set-up (fonts, parsed stylesheet) happens once."""

    name: str

    @abstractmethod
    def render(self, html: str) -> Rendered:
        """Render one letter's HTML."""
