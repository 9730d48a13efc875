"""The review web page, served by ``letters serve`` under ``/review/``.

Named users sign in (argon2 passwords, lockout); a reviewer sees the templates and rule
tables with their states, opens a pending version, reads its lint findings, its proofs and
its rendered diff against the version in force, and approves or rejects it with a comment.
Every page works without JavaScript; nothing is loaded from outside the product.

Security: the session cookie is HttpOnly, Secure (unless ``LETTERS_REVIEW__SECURE_COOKIES``
is off for loopback) and SameSite=Strict, only its SHA-256 is stored; every form carries the
session's CSRF token (the sign-in form a double-submit token); pages are sent with a
Content-Security-Policy that allows only the product's own stylesheet and images.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from letters.clock import shown, today_oslo
from letters.codes import Code
from letters.ledger.reviews import ReviewRefused, Reviews, SubjectKind, Version, VersionState
from letters.ledger.users import Role, Sessions, User, Users
from letters.rules import tables
from letters.workbench import accounts, approval, diff, lint, proofs

PAGES = Path(__file__).with_name("pages")
COOKIE = "letters_review"
LOGIN_COOKIE = "letters_review_login"
MAX_FORM = 64 * 1024
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def _pages() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PAGES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["oslo"] = shown
    env.filters["short"] = lambda sha: (sha or "")[:12]
    return env


def _html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = _pages().get_template(name).render(**context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, "the form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None
    return {k: v[0] for k, v in fields.items()}


#: Rendered diffs by (old sha256, new sha256, day): a page and its pictures share one.
_DIFFS: dict[tuple[str, str, dt.date], list[diff.CaseDiff]] = {}
_DIFFS_KEPT = 8


def router(runtime: Callable[[], Any]) -> APIRouter:
    """The review page's routes; ``runtime`` gives the process's Runtime."""
    r = APIRouter(prefix="/review", include_in_schema=False)

    def settings() -> Any:
        return runtime().settings

    def signed_in(request: Request) -> tuple[User, str, str] | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        idle = dt.timedelta(minutes=settings().review.session_minutes)
        found = Sessions(runtime().ledger).find(token, idle)
        if found is None:
            return None
        user = Users(runtime().ledger).get(found[0])
        if user is None or user[0].disabled:
            return None
        return user[0], found[1], token

    def need(request: Request) -> tuple[User, str, str]:
        who = signed_in(request)
        if who is None:
            raise Redirect(f"/review/login?next={quote(request.url.path)}")
        return who

    def csrf_ok(form: dict[str, str], csrf: str) -> None:
        if not hmac.compare_digest(form.get("csrf", ""), csrf):
            raise HTTPException(403, "the form's security token does not match; reload the page")

    @r.get("/static/review.css")
    def stylesheet() -> Response:
        css = (PAGES / "review.css").read_text("utf-8")
        return Response(css, media_type="text/css", headers=HEADERS)

    @r.get("/login")
    def login_page(request: Request, next: str = "/review/") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        page = _html("login.html", login_token=token, next=_local(next), error=None)
        _set_cookie(page, LOGIN_COOKIE, token, settings(), max_age=600)
        return page

    @r.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(form.get("login_token", ""), expected):
            raise HTTPException(403, "the sign-in form expired; reload the page")
        try:
            user = accounts.sign_in(
                runtime().ledger, form.get("name", ""), form.get("password", "")
            )
        except ReviewRefused as exc:
            token = secrets.token_urlsafe(24)
            page = _html(
                "login.html",
                status=401,
                login_token=token,
                next=_local(form.get("next", "/review/")),
                error=f"{exc} [{exc.code}]",
            )
            _set_cookie(page, LOGIN_COOKIE, token, settings(), max_age=600)
            return page
        token, _ = Sessions(runtime().ledger).open(user.name)
        Reviews(runtime().ledger).audit(user.name, "sign-in", "user", user.name, "review page")
        done = RedirectResponse(_local(form.get("next", "/review/")), status_code=303)
        _set_cookie(done, COOKIE, token, settings())
        done.delete_cookie(LOGIN_COOKIE, path="/review")
        return done

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        _, csrf, token = need(request)
        csrf_ok(await _form(request), csrf)
        Sessions(runtime().ledger).close(token)
        done = RedirectResponse("/review/login", status_code=303)
        done.delete_cookie(COOKIE, path="/review")
        return done

    @r.get("/")
    def dashboard(request: Request) -> HTMLResponse:
        user, csrf, _ = need(request)
        rt = runtime()
        today = today_oslo(rt.settings)
        return _html(
            "dashboard.html",
            user=user,
            csrf=csrf,
            today=today,
            templates=approval.template_status(rt.ledger, rt.settings, today),
            tables=approval.table_status(rt.ledger, today, rt.settings.rehearsal_rules),
            drafts=[v for v in Reviews(rt.ledger).versions() if v.state is VersionState.DRAFT],
            warn_days=approval.WARN_DAYS,
        )

    @r.get("/versions/{version_id}")
    def version_page(request: Request, version_id: int, message: str = "") -> HTMLResponse:
        user, csrf, _ = need(request)
        rt = runtime()
        version = _version(rt, version_id)
        context: dict[str, Any] = {
            "user": user,
            "csrf": csrf,
            "version": version,
            "message": message,
            "may_decide": user.may_review() and version.state is VersionState.DRAFT,
            "own": version.author == user.name,
            "today": today_oslo(rt.settings),
        }
        if version.subject_kind is SubjectKind.TEMPLATE:
            old = _baseline(rt, version)
            context["baseline"] = old
            if version.subject.startswith("email."):
                context.update(findings=[], diffs=[], letter=False)
            else:
                info = approval.version_info(rt.ledger, rt.settings, version)
                findings, _ = lint.lint_subject(
                    info, version.subject, rt.settings, context["today"]
                )
                context.update(findings=findings, diffs=_diffs(rt, version, old), letter=True)
        else:
            context["changes"] = _table_changes(rt, version)
        return _html("version.html", **context)

    @r.get("/versions/{version_id}/proofs.png")
    def contact_sheet(request: Request, version_id: int) -> Response:
        need(request)
        rt = runtime()
        version = _version(rt, version_id)
        if version.subject_kind is not SubjectKind.TEMPLATE or version.subject.startswith("email"):
            raise HTTPException(404, "no proofs for this version")
        info = approval.version_info(rt.ledger, rt.settings, version)
        made = proofs.proof(info, version.subject, rt.settings, today_oslo(rt.settings))
        sheet = proofs.contact_sheet(made, f"{version.subject} v{version.id}")
        return Response(proofs.png_bytes(sheet), media_type="image/png", headers=HEADERS)

    @r.get("/versions/{version_id}/diff/{case}.png")
    def diff_picture(request: Request, version_id: int, case: str) -> Response:
        need(request)
        rt = runtime()
        version = _version(rt, version_id)
        for d in _diffs(rt, version, _baseline(rt, version)):
            if d.case == case:
                return Response(
                    proofs.png_bytes(d.picture), media_type="image/png", headers=HEADERS
                )
        raise HTTPException(404, "no such proof case")

    @r.post("/versions/{version_id}/decide")
    async def decide(request: Request, version_id: int) -> Response:
        user, csrf, _ = need(request)
        form = await _form(request)
        csrf_ok(form, csrf)
        rt = runtime()
        effective = form.get("effective_from") or None
        try:
            decided = approval.decide(
                rt.ledger,
                version_id,
                user,
                approve=form.get("decision") == "approve",
                sha256=form.get("sha256", ""),
                comment=form.get("comment", ""),
                effective_from=dt.date.fromisoformat(effective) if effective else None,
                today=today_oslo(rt.settings),
            )
            message = f"v{decided.id} {decided.state} by {decided.reviewed_by}"
        except ReviewRefused as exc:
            message = f"refused: {exc} [{exc.code}]"
        except ValueError as exc:
            message = f"refused: {exc}"
        return RedirectResponse(
            f"/review/versions/{version_id}?message={quote(message)}", status_code=303
        )

    @r.post("/templates/{subject}/submit")
    async def submit(request: Request, subject: str) -> Response:
        user, csrf, _ = need(request)
        csrf_ok(await _form(request), csrf)
        rt = runtime()
        try:
            version = approval.submit_template(
                rt.ledger, rt.settings, subject, user, "from the review page"
            )
        except ReviewRefused as exc:
            return _html(
                "message.html", status=409, user=user, csrf=csrf, text=f"{exc} [{exc.code}]"
            )
        return RedirectResponse(f"/review/versions/{version.id}", status_code=303)

    @r.get("/audit")
    def audit(request: Request) -> HTMLResponse:
        user, csrf, _ = need(request)
        entries = Reviews(runtime().ledger).audit_log(limit=300)
        return _html("audit.html", user=user, csrf=csrf, entries=entries)

    return r


class Redirect(HTTPException):
    def __init__(self, to: str) -> None:
        super().__init__(303, "sign in first", headers={"Location": to})


def error_page(status: int, text: str) -> HTMLResponse:
    """An error on the review page, as a page (not the API's JSON)."""
    return _html("message.html", status=status, user=None, csrf="", text=text)


def _local(target: str) -> str:
    """Only a path on the review page itself (no open redirect)."""
    return target if target.startswith("/review/") and "//" not in target else "/review/"


def _set_cookie(
    response: Response, name: str, value: str, settings: Any, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/review",
        httponly=True,
        secure=bool(settings.review.secure_cookies),
        samesite="strict",
    )


def _version(rt: Any, version_id: int) -> Version:
    try:
        return Reviews(rt.ledger).version(version_id)
    except ReviewRefused:
        raise HTTPException(404, f"no version {version_id}") from None


def _baseline(rt: Any, version: Version) -> Version | None:
    """What a version is compared with: the version in force today, or, for that version
    itself, the approved one before it."""
    reviews = Reviews(rt.ledger)
    current = reviews.in_force(version.subject_kind, version.subject, today_oslo(rt.settings))
    if current is not None and current.id != version.id:
        return current
    earlier = [
        v
        for v in reviews.versions(version.subject_kind, version.subject)
        if v.id < version.id and v.state in (VersionState.APPROVED, VersionState.RETIRED)
    ]
    return earlier[0] if earlier else None


def _diffs(rt: Any, version: Version, old: Version | None) -> list[diff.CaseDiff]:
    if old is None or version.subject.startswith("email."):
        return []
    today = today_oslo(rt.settings)

    def make() -> list[diff.CaseDiff]:
        a = approval.version_info(rt.ledger, rt.settings, old)
        b = approval.version_info(rt.ledger, rt.settings, version)
        return diff.diff(a, b, version.subject, rt.settings, today)

    key = (old.sha256, version.sha256, today)
    if key not in _DIFFS:
        while len(_DIFFS) >= _DIFFS_KEPT:
            _DIFFS.pop(next(iter(_DIFFS)))
        _DIFFS[key] = make()
    return _DIFFS[key]


def _table_changes(rt: Any, version: Version) -> list[dict[str, str]]:
    """The proposal's entries beside the table in force: new, changed, removed, the same."""
    proposed = tables.parse_table(version.content)
    current = approval.rulebook_in_force(
        rt.ledger, today_oslo(rt.settings), rt.settings.rehearsal_rules
    ).tables[proposed.name]

    def show(e: tables.Dated[Any]) -> str:
        return approval.show_value(e.value)

    before = {e.valid_from: e for e in current.entries}
    after = {e.valid_from: e for e in proposed.entries}
    rows = []
    for day in sorted(set(before) | set(after)):
        a, b = before.get(day), after.get(day)
        change = (
            "new"
            if a is None
            else "removed"
            if b is None
            else "the same"
            if (a.value, a.source, a.confirmed) == (b.value, b.source, b.confirmed)
            else "changed"
        )
        entry = b or a
        assert entry is not None
        rows.append(
            {
                "valid_from": day.isoformat(),
                "was": show(a) if a else "",
                "becomes": show(b) if b else "",
                "source": entry.source,
                "confirmed": "yes" if entry.confirmed else "NO",
                "change": change,
            }
        )
    rows.append(
        {
            "valid_from": "known until",
            "was": current.known_until.isoformat(),
            "becomes": proposed.known_until.isoformat(),
            "source": "",
            "confirmed": "",
            "change": "the same" if current.known_until == proposed.known_until else "changed",
        }
    )
    return rows


__all__ = ["Code", "Role", "router"]
