"""One job in, one checked letter out: parse → compose → template → render → safety check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from letters import templating
from letters.compose import Composed, compose
from letters.config import Settings, get_settings
from letters.credentials import Credential
from letters.job import Job
from letters.paths import TEMPLATE_DIR
from letters.renderers import Rendered
from letters.renderers.registry import get_renderer
from letters.renderers.safety import SafetyReport, check
from letters.validation import parse


@dataclass(frozen=True)
class Produced:
    job: Job
    composed: Composed
    template: templating.TemplateInfo
    html: str
    rendered: Rendered
    safety: SafetyReport

    @property
    def credential(self) -> Credential:
        return self.composed.credential

    def __repr__(self) -> str:
        return f"Produced(job={self.job.id!r}, pages={self.safety.pages}, ok={self.safety.ok})"


def window_text(composed: Composed) -> list[str]:
    """What the envelope window must show: the return-address line and the address."""
    letter = composed.letter
    return [letter.return_address, *letter.address_lines]


def produce(
    data: Any,
    settings: Settings | None = None,
    template: templating.TemplateInfo | None = None,
    *,
    draft: bool = False,
    specimen: bool = False,
) -> Produced:
    """Make one letter from ``template`` (default: the templates folder's working copy, as
    previews do; the pipeline passes the approved version in force). ``draft`` marks the
    letter "NOT APPROVED"; ``specimen`` prints the proofs' fixed password. Raises
    :class:`letters.job.JobRejected` for a bad job and :class:`letters.renderers.RenderError`
    when it cannot be rendered; a letter that renders but fails the print-safety check is
    returned with the failures in ``safety``."""
    s = settings or get_settings()
    job = parse(data, specimen=specimen)
    composed = compose(job, s, specimen=specimen)
    info = template or templating.working_copy(
        job.kind, job.language, s.review.templates_dir or TEMPLATE_DIR
    )
    env = templating.environment(info.folder)
    html = templating.render_html(composed.letter, env, draft=draft)
    rendered = get_renderer(info.renderer, info.folder).render(html)
    safety = check(rendered.pdf, window_text(composed), s)
    return Produced(job, composed, info, html, rendered, safety)
