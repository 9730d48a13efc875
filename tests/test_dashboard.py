"""The shipped Grafana board and Prometheus alerts query only series the service exports,
with labels those series carry: a renamed metric breaks this test, not the night shift's
dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.conftest import ROOT, Pipeline, load_job

DEPLOY = ROOT / "deploy"
_NAME = re.compile(r"\bletters_[a-z_]+")
_BY = re.compile(r"\bby \(([^)]*)\)")
_LABEL_REF = re.compile(r"\{\{\s*\$labels\.([a-z_]+)\s*\}\}|\{\{([a-z_]+)\}\}")


def board_queries() -> list[str]:
    board = json.loads((DEPLOY / "grafana-dashboard.json").read_text("utf-8"))
    return [t["expr"] for panel in board["panels"] for t in panel["targets"]]


def alert_queries() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text("utf-8"))
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def exported(pipeline: Pipeline) -> dict[str, set[str]]:
    """Every series the HTTP service's /metrics exports here → the labels it carries."""
    from letters.metrics import exposition

    body, _ = exposition(pipeline.runtime.ledger)
    series: dict[str, set[str]] = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            series.setdefault(line.split()[2], set())
        elif line and not line.startswith("#"):
            name, _, rest = line.partition("{")
            labels = set(re.findall(r'([a-z_]+)="', rest.split("}")[0])) if rest else set()
            series.setdefault(name.split()[0], set()).update(labels)
    return series


def _base(name: str, series: dict[str, set[str]]) -> str | None:
    for candidate in (name, re.sub(r"_(bucket|sum|count|total)$", "", name)):
        if candidate in series:
            return candidate
    return None


def test_every_series_on_the_board_and_in_the_alerts_is_exported(pipeline: Pipeline) -> None:
    import datetime as dt

    from letters.pipeline.intake import release

    pipeline.submit(load_job("reminder.nb"))  # delivered
    late = load_job("reminder.en")  # held, then released three days late: failed
    pipeline.runtime.ledger.place_hold(late["reference"], "dispute")
    pipeline.submit(late)
    pipeline.drain()
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt.date(2026, 11, 23)}
    )
    release(late["reference"], "resolved", pipeline.runtime)
    pipeline.drain()
    assert pipeline.status(late["id"]) == "failed"
    series = exported(pipeline)
    queries = board_queries() + alert_queries()
    assert len(queries) >= 15
    missing, wrong_labels = [], []
    for query in queries:
        names = _NAME.findall(query)
        assert names, query
        for name in names:
            base = _base(name, series)
            if base is None:
                missing.append(name)
                continue
            samples = series.get(name, set()) | series.get(base, set())
            for group in _BY.findall(query):
                for label in filter(None, (x.strip() for x in group.split(","))):
                    if label != "le" and samples and label not in samples:
                        wrong_labels.append(f"{name} by {label}")
    assert "kind" in series.get("letters_delivered_total", set())  # samples were read
    assert missing == [] and wrong_labels == []


def test_the_board_covers_what_an_operator_watches() -> None:
    text = " ".join(board_queries())
    for wanted in (
        "letters_delivered_total",  # throughput by kind and channel
        "letters_oldest_unfinished_job_seconds",  # queue lag
        "letters_jobs_failed_total",  # failures by code
        "letters_print_batches",  # batch states
        "letters_rule_table_days_left",  # rule tables
    ):
        assert wanted in text
    alerts = " ".join(alert_queries())
    for wanted in (
        "letters_oldest_unfinished_job_seconds",
        "letters_jobs_failed_total",
        "letters_rule_table_days_left",
    ):
        assert wanted in alerts


def test_the_alert_file_is_valid_for_prometheus() -> None:
    rules: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text("utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
            assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
            assert rule["labels"]["severity"] in {"page", "ticket"}
            assert rule["annotations"]["summary"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"])
            for a, b in _LABEL_REF.findall(json.dumps(rule["annotations"])):
                assert (a or b) in rule["expr"]  # a label the query keeps
    assert Path(DEPLOY / "grafana-dashboard.json").read_text("utf-8").endswith("\n")
