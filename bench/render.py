"""Rendering speed: the fast renderer against WeasyPrint (reference, naive) and Chromium.

Every contender renders the same letters (every fixture job, composed as of the fixtures'
date and templated as ``letters.produce`` does) in the same process:

- fast: ``get_renderer("fast")``, when it is registered (else a line says so);
- weasyprint reference: ``get_renderer("weasyprint")``, which reuses its font configuration
  and parsed stylesheet;
- weasyprint naive: a fresh font configuration and the stylesheet inlined in each letter, as
  a straightforward use of WeasyPrint would;
- chromium (peer): Debian's headless Chromium (/usr/bin/chromium, never a downloaded build)
  driven by Playwright for Python, one browser and one page for all letters; each letter is
  ``set_content`` with the stylesheet inlined, then ``page.pdf`` (A4, backgrounds, CSS page
  size). It fetches nothing from the network: the page lives at a made-up origin whose
  ``assets/`` URLs are served from the template asset folder (through the renderers' own
  ``resolve_asset``) and every other request is aborted and reported; the host resolver
  resolves nothing either. Fonts load once and stay in Chromium's memory cache, as the
  reference keeps its font configuration. Chromium lays out the letters differently: it has
  no ``position: running()`` / ``element()``, so the footer sits in the flow at the top of
  page 1 (pushing the address block down) and its page counters read 0.

Each engine renders every letter once untimed (warm-up: imports, font loads, caches, and the
page counts shown), then all engines take turns in rounds (the order rotates each round) so
machine drift hits them alike; ms/letter is the median of rounds. Then the whole per-letter
path (parse, compose with the argon2 password hash, template, render, safety check) as a
ratio to rendering alone, and the fast renderer's targets: at most 20 ms per letter, at least
3.5x faster than Chromium and 5x faster than the WeasyPrint reference.

    .venv/bin/python bench/render.py [--rounds 5] [--skip-chromium]

Last, the command line as a user runs it: ``letters render DIR -o OUT`` on 120 one-page jobs
(the fixtures of the four kinds in both languages, again and again under new ids), timed as a
whole command in a subprocess, start-up included, against a WeasyPrint loop (the reference:
font configuration and stylesheet reused) rendering the same 120 letters' HTML in this
process; rounds alternate. Target: the command at least 5x faster per letter.

Chromium needs ``apt-get install chromium`` and ``pip install playwright`` (no
``playwright install``: the Debian browser is used).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from letters.compose import compose
from letters.config import Settings
from letters.paths import STYLESHEET, TEMPLATE_DIR
from letters.produce import produce
from letters.renderers import RenderError
from letters.renderers.fetcher import AssetFetcher, RefusedURL, resolve_asset
from letters.renderers.registry import get_renderer
from letters.templating import render_html
from letters.validation import parse

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))
CLOCK_DATE = dt.date(2026, 11, 20)  # the fixtures' letter date
#: the rehearsal's assumed confirmations of the unconfirmed interest rates, as make main
REHEARSAL_RULES = ROOT / "fixtures" / "rules"
SETTINGS = Settings(clock_date=CLOCK_DATE, rehearsal_rules=REHEARSAL_RULES)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "chromium: not available (apt-get install chromium; pip install playwright)"
# Targets for the fast renderer (the issue): ms per letter, and speed-ups over the others.
TARGET_MS = 20.0
TARGET_OVER_CHROMIUM = 3.5
TARGET_OVER_REFERENCE = 5.0
# ... and for the command line (letters render DIR): per letter, over the reference loop
CLI_JOBS = 120
TARGET_CLI_OVER_REFERENCE = 5.0

Render = Callable[[str], bytes]


def letters_html() -> list[str]:
    return [
        render_html(compose(parse(json.loads(p.read_text("utf-8"))), SETTINGS).letter) for p in JOBS
    ]


def inline_stylesheet(html: str) -> str:
    css = STYLESHEET.read_text("utf-8")
    return html.replace("</head>", f"<style>{css}</style></head>", 1)


def naive(html: str) -> bytes:
    font_config = FontConfiguration()
    pdf = HTML(
        string=inline_stylesheet(html),
        base_url=TEMPLATE_DIR.as_uri() + "/",
        url_fetcher=AssetFetcher(),
    ).write_pdf(font_config=font_config)
    assert isinstance(pdf, bytes)
    return pdf


def reference(html: str) -> bytes:
    return get_renderer("weasyprint").render(html).pdf


def fast_renderer() -> tuple[Render | None, str]:
    """The fast renderer's render function, or None and why it is not there."""
    try:
        renderer = get_renderer("fast")
    except (RenderError, ImportError) as exc:
        return None, f"{type(exc).__name__}: {exc}"

    def fast(html: str) -> bytes:
        return renderer.render(html).pdf

    return fast, ""


class Chromium:
    """Headless Debian Chromium through Playwright: one browser, one page, no network."""

    ORIGIN = "http://letters.invalid/"  # .invalid never resolves; requests are routed

    def __init__(self, stack: contextlib.ExitStack) -> None:
        from playwright.sync_api import sync_playwright

        self.refused: list[str] = []
        self.served: list[str] = []
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # Belt and braces beside the route below: the browser's own requests (updates,
            # safe browsing, ...) resolve no host either.
            args=["--host-resolver-rules=MAP * ~NOTFOUND"],
        )
        stack.callback(browser.close)
        self.version = browser.version
        self.page = browser.new_page()
        self.page.route("**/*", self._route)
        self.page.goto(self.ORIGIN)  # so relative asset URLs resolve against ORIGIN

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == self.ORIGIN:
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>")
            return
        if url.startswith(self.ORIGIN):
            relative = url[len(self.ORIGIN) :].split("?", 1)[0].split("#", 1)[0]
            try:
                path = resolve_asset((TEMPLATE_DIR / relative).as_uri())
            except RefusedURL:
                pass
            else:
                self.served.append(relative)
                route.fulfill(status=200, path=str(path))
                return
        self.refused.append(url)
        route.abort("blockedbyclient")

    def render(self, html: str) -> bytes:
        self.page.set_content(inline_stylesheet(html))
        self.page.evaluate("document.fonts.ready.then(() => null)")
        return self.page.pdf(format="A4", print_background=True, prefer_css_page_size=True)


def start_chromium(stack: contextlib.ExitStack) -> tuple[Chromium | None, str]:
    """Chromium, or None and the line that says why not."""
    if not CHROMIUM.is_file():
        return None, CHROMIUM_MISSING
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, CHROMIUM_MISSING
    from playwright.sync_api import Error as PlaywrightError

    try:
        return Chromium(stack), ""
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"chromium: not available (launch failed: {first})"


def page_count(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def timed_round(render: Render, pages: list[str]) -> float:
    start = time.perf_counter()
    for html in pages:
        render(html)
    return (time.perf_counter() - start) * 1000 / len(pages)


def target_line(what: str, shown: str, target: float, value: float, sense: str) -> str:
    ok = value <= target if sense == "≤" else value >= target
    wanted = f"{sense} {target:g}{' ms' if sense == '≤' else '×'}"
    return f"  {what:<28} {shown:>11}  target {wanted:<8} {'met' if ok else 'NOT met'}"


def one_page_jobs(folder: Path, count: int = CLI_JOBS) -> list[dict[str, Any]]:
    """``count`` one-page jobs (the kind × language fixtures under new ids) written to
    ``folder``; returns them."""
    sources = [p for p in JOBS if not p.name.startswith("edge.")]
    jobs = []
    for n in range(count):
        job = json.loads(sources[n % len(sources)].read_text("utf-8"))
        job["id"] = f"{job['id']}-cli{n:03d}"
        (folder / f"{n:03d}.json").write_text(json.dumps(job, ensure_ascii=False), "utf-8")
        jobs.append(job)
    return jobs


def command_line(rounds: int) -> None:
    """``letters render DIR -o OUT`` as a whole command against the reference loop."""
    letters_cmd = Path(sys.executable).with_name("letters")
    env = {
        **os.environ,
        "LETTERS_CLOCK_DATE": CLOCK_DATE.isoformat(),
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
    }
    with tempfile.TemporaryDirectory(prefix="letters-bench-") as tmp:
        folder, output = Path(tmp, "jobs"), Path(tmp, "out")
        folder.mkdir()
        jobs = one_page_jobs(folder)
        pages = [render_html(compose(parse(job), SETTINGS).letter) for job in jobs]
        counted = {page_count(reference(html)) for html in pages[:10]}  # warm-up, too
        runs: dict[str, list[float]] = {"cli": [], "cli1": [], "loop": []}
        for r in range(rounds):
            turns = ["cli", "cli1", "loop"] if r % 2 == 0 else ["loop", "cli1", "cli"]
            for turn in turns:
                start = time.perf_counter()
                if turn == "loop":
                    for html in pages:
                        reference(html)
                else:
                    one = ["--jobs", "1"] if turn == "cli1" else []
                    subprocess.run(
                        [str(letters_cmd), "render", str(folder), "-o", str(output), *one],
                        env=env,
                        check=True,
                        capture_output=True,
                    )
                runs[turn].append((time.perf_counter() - start) * 1000 / len(jobs))
        written = len(list(output.glob("*.pdf")))
    cli_ms, cli1_ms, loop_ms = (statistics.median(runs[k]) for k in ("cli", "cli1", "loop"))
    cores = os.cpu_count() or 1
    print(
        f"command line: letters render DIR -o OUT, {len(jobs)} jobs ({written} PDFs, pages per "
        f"letter {sorted(counted)}), {rounds} rounds, ms per letter (median of rounds)"
    )
    for name, key, value in [
        (f"letters render DIR ({cores} processes)", "cli", cli_ms),
        ("letters render DIR --jobs 1", "cli1", cli1_ms),
        ("weasyprint reference loop", "loop", loop_ms),
    ]:
        low, high = min(runs[key]), max(runs[key])
        print(f"  {name:<34} {value:7.1f} ms  (rounds {low:.0f}–{high:.0f})")
    print(f"  reference loop / command --jobs 1  {loop_ms / cli1_ms:.2f}×  (one process)")
    over = loop_ms / cli_ms
    print(
        target_line(
            "reference loop / command", f"{over:.2f}×", TARGET_CLI_OVER_REFERENCE, over, "≥"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-chromium", action="store_true", help="leave Chromium out")
    parser.add_argument("--cli-rounds", type=int, default=3, help="rounds of letters render DIR")
    parser.add_argument("--only-cli", action="store_true", help="only the command-line comparison")
    args = parser.parse_args()
    if args.only_cli:
        from letters import rules
        from letters.rules import tables

        rules.use(tables.rehearsal(REHEARSAL_RULES))
        command_line(args.cli_rounds)
        return
    from letters import rules
    from letters.rules import tables

    rules.use(tables.rehearsal(REHEARSAL_RULES))
    pages = letters_html()
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        contenders: dict[str, Render] = {}
        fast, why = fast_renderer()
        if fast is None:
            notes.append(f"fast renderer: not available ({why})")
        else:
            contenders["fast"] = fast
        contenders["weasyprint reference"] = reference
        contenders["weasyprint naive"] = naive
        chromium: Chromium | None = None
        if args.skip_chromium:
            notes.append("chromium: skipped (--skip-chromium)")
        else:
            chromium, why = start_chromium(stack)
            if chromium is None:
                notes.append(why)
            else:
                contenders["chromium (peer)"] = chromium.render
                notes.append(f"chromium: {chromium.version} at {CHROMIUM}, via Playwright")

        # Warm-up: every engine renders every letter once, untimed.
        page_counts: dict[str, int] = {}
        for name, render in list(contenders.items()):
            try:
                page_counts[name] = sum(page_count(render(html)) for html in pages)
            except Exception as exc:
                if name != "fast":
                    raise
                del contenders[name]
                notes[0:0] = [f"fast renderer: failed in warm-up ({type(exc).__name__}: {exc})"]
        results: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        for r in range(args.rounds):
            for name in order[r % len(order) :] + order[: r % len(order)]:
                results[name].append(timed_round(contenders[name], pages))
        if chromium is not None:
            if chromium.refused:
                first = chromium.refused[0]
                notes.append(f"chromium: refused {len(chromium.refused)} requests, e.g. {first}")
            else:
                served = sorted(set(chromium.served))
                notes.append(f"chromium: no request left the asset folder; served {served}")

    # The whole per-letter path: parse, compose (KID, argon2 hash), template, render, check.
    jobs = [json.loads(p.read_text("utf-8")) for p in JOBS]
    whole = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for job in jobs:
            produce(job, SETTINGS)
        whole.append((time.perf_counter() - start) * 1000 / len(jobs))

    ms = {name: statistics.median(runs) for name, runs in results.items()}
    base = ms["weasyprint reference"]
    for note in notes:
        print(note)
    print(f"{len(pages)} letters × {args.rounds} rounds, ms per letter (median of rounds)")
    for name, runs in results.items():
        spread = f"{min(runs):.0f}–{max(runs):.0f}"
        print(
            f"  {name:<22} {ms[name]:7.1f} ms  (rounds {spread})  ratio to reference"
            f" {ms[name] / base:4.2f}×  pages {page_counts[name]}"
        )
    whole_ms = statistics.median(whole)
    print(
        f"  {'whole letter (produce)':<22} {whole_ms:7.1f} ms"
        f"  (rounds {min(whole):.0f}–{max(whole):.0f})"
        f"  ratio to reference render {whole_ms / base:4.2f}×"
    )
    fast_ms = ms.get("fast")
    chromium_ms = ms.get("chromium (peer)")
    if chromium_ms is not None:
        print(f"  WeasyPrint reference / Chromium: {base / chromium_ms:5.2f}×")
    if fast_ms is None:
        return
    print("fast renderer targets")
    print(target_line("ms per letter", f"{fast_ms:.1f} ms", TARGET_MS, fast_ms, "≤"))
    if chromium_ms is None:
        print(f"  {'Chromium / fast':<28} {'no Chromium':>11}  target ≥ {TARGET_OVER_CHROMIUM:g}×")
    else:
        over = chromium_ms / fast_ms
        print(target_line("Chromium / fast", f"{over:.2f}×", TARGET_OVER_CHROMIUM, over, "≥"))
    over = base / fast_ms
    print(
        target_line("WeasyPrint reference / fast", f"{over:.2f}×", TARGET_OVER_REFERENCE, over, "≥")
    )
    if args.cli_rounds:
        command_line(args.cli_rounds)


if __name__ == "__main__":
    main()
