"""Which methods a path of the HTTP API takes, from every route matching it (Starlette's
own 405 names only the first route's methods, so ``/v1/cases/{ref}/hold`` would answer
``Allow: POST`` though it also takes DELETE)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import Match, Route


def allowed(routes: list[Any], scope: Mapping[str, Any]) -> set[str]:
    """The methods of every route whose path matches the request's (empty: no such path)."""
    methods: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # an included router (no prefix)
        if included is not None:
            methods |= allowed(included.routes, scope)
            continue
        if not isinstance(route, Route) or route.methods is None:
            continue
        match, _ = route.matches({**scope, "method": "GET", "type": "http"})
        if match is not Match.NONE:
            methods |= route.methods
    return methods


def allow_header(methods: set[str]) -> str:
    return ", ".join(sorted(methods | {"OPTIONS"}))
