"""Rendering speed: the reference WeasyPrint renderer against a naive WeasyPrint baseline.

Both render the same letters (every fixture job) in the same process, in alternating rounds
so that machine drift hits both alike. The reference renderer reuses its font
configuration and parsed stylesheet; the naive baseline builds a fresh font configuration
and parses the stylesheet inlined in each letter, as a straightforward use of WeasyPrint
would. Prints ms/letter per renderer (median of rounds) and their ratio, and the whole per-letter
path (parse, compose with the argon2 password hash, template, render, safety check) as a
ratio to rendering alone.

    .venv/bin/python bench/render.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from letters.compose import compose
from letters.job import parse
from letters.paths import STYLESHEET
from letters.produce import produce
from letters.renderers import get_renderer
from letters.renderers.fetcher import AssetFetcher
from letters.renderers.weasy import BASE_URL
from letters.templating import render_html

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))


def letters_html() -> list[str]:
    return [render_html(compose(parse(json.loads(p.read_text("utf-8")))).letter) for p in JOBS]


def naive(html: str) -> bytes:
    css = STYLESHEET.read_text("utf-8")
    inlined = html.replace("</head>", f"<style>{css}</style></head>", 1)
    font_config = FontConfiguration()
    pdf = HTML(string=inlined, base_url=BASE_URL, url_fetcher=AssetFetcher()).write_pdf(
        font_config=font_config
    )
    assert isinstance(pdf, bytes)
    return pdf


def reference(html: str) -> bytes:
    return get_renderer("weasyprint").render(html).pdf


def timed_round(render: Callable[[str], bytes], pages: list[str]) -> float:
    start = time.perf_counter()
    for html in pages:
        render(html)
    return (time.perf_counter() - start) * 1000 / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = letters_html()
    contenders: dict[str, Callable[[str], bytes]] = {
        "weasyprint reference": reference,
        "weasyprint naive": naive,
    }
    for render in contenders.values():  # warm up: imports, first font load
        render(pages[0])
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, render in contenders.items():
            results[name].append(timed_round(render, pages))
    # The whole per-letter path: parse, compose (KID, argon2 hash), template, render, check.
    jobs = [json.loads(p.read_text("utf-8")) for p in JOBS]
    whole = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for job in jobs:
            produce(job)
        whole.append((time.perf_counter() - start) * 1000 / len(jobs))
    base = statistics.median(results["weasyprint reference"])
    print(f"{len(pages)} letters × {args.rounds} rounds, ms per letter (median of rounds)")
    for name, runs in results.items():
        ms = statistics.median(runs)
        spread = f"{min(runs):.0f}–{max(runs):.0f}"
        print(f"  {name:<22} {ms:7.1f} ms  (rounds {spread})  ratio to reference {ms / base:4.2f}×")
    ms = statistics.median(whole)
    print(
        f"  {'whole letter (produce)':<22} {ms:7.1f} ms  (rounds {min(whole):.0f}–{max(whole):.0f})"
        f"  ratio to reference render {ms / base:4.2f}×"
    )


if __name__ == "__main__":
    main()
