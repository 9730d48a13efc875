"""The review page in a real browser (Debian's chromium driven by Playwright, never a
browser download): a reviewer signs in, opens a pending version, sees its diff picture,
approves exactly that version, and the next letter names the approval; an author's own
approval and a stale hash are refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from letters.ledger.reviews import Reviews, VersionState
from letters.ledger.users import Role
from letters.paths import TEMPLATE_DIR
from letters.workbench import accounts, approval
from tests.conftest import Pipeline, load_job
from tests.live_server import serving

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

PASSWORD = "correct horse battery"
SHOTS = Path("out/screenshots")


@pytest.fixture
def site(pipeline: Pipeline, tmp_path: Path) -> Iterator[tuple[str, Pipeline, Path]]:
    from letters.http import create_app

    folder = tmp_path / "authoring"
    shutil.copytree(TEMPLATE_DIR, folder)
    review = pipeline.runtime.settings.review.model_copy(update={"templates_dir": folder})
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"review": review})
    with serving(create_app(pipeline.runtime)) as port:
        yield f"http://127.0.0.1:{port}", pipeline, folder


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page: object, base: str, name: str) -> None:
    page.goto(f"{base}/review/")  # type: ignore[attr-defined]
    page.fill("#name", name)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_a_reviewer_approves_exactly_the_version_shown(site: tuple, browser: object) -> None:
    base, pipeline, folder = site
    ledger, settings = pipeline.runtime.ledger, pipeline.runtime.settings
    author = accounts.create(ledger, "anna", Role.AUTHOR, PASSWORD, by="test")
    accounts.create(ledger, "bjorn", Role.REVIEWER, PASSWORD, by="test")
    path = folder / "reminder.nb.html"
    path.write_text(
        path.read_text("utf-8").replace("kan du se bort fra", "ber vi deg se bort fra"), "utf-8"
    )
    draft = approval.submit_template(ledger, settings, "reminder.nb", author, "vennligere")
    SHOTS.mkdir(parents=True, exist_ok=True)

    # an author may look but not decide
    author_page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(author_page, base, "anna")
    author_page.goto(f"{base}/review/versions/{draft.id}")
    assert author_page.locator("form[action$='/decide']").count() == 0
    # a reviewer who wrote a version cannot approve it: four eyes
    carl = accounts.create(ledger, "carl", Role.REVIEWER, PASSWORD, by="test")
    body = folder / "email" / "en.txt"
    body.write_text(body.read_text("utf-8").replace("Kind regards", "Best regards"), "utf-8")
    own = approval.submit_template(ledger, settings, "email.en", carl, "warmer")
    carl_page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(carl_page, base, "carl")
    carl_page.goto(f"{base}/review/versions/{own.id}")
    assert "You wrote this version" in carl_page.content()
    carl_page.fill("#comment", "looks fine to me")
    carl_page.click("button[value=approve]")
    assert "[own-version]" in carl_page.content()
    assert Reviews(ledger).version(own.id).state is VersionState.DRAFT

    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    sign_in(page, base, "bjorn")
    assert "Waiting for review" in page.content()
    page.screenshot(path=str(SHOTS / "review-dashboard.png"), full_page=True)
    page.click(f"a[href='/review/versions/{draft.id}']")
    assert page.locator("#sha256").inner_text() == draft.sha256
    # the diff picture loads (the page's own image, a real PNG of both versions)
    page.wait_for_function(
        "() => { const i = document.querySelector('img.diff');"
        " return i && i.complete && i.naturalWidth > 500 }",
        timeout=60_000,
    )
    assert "ber vi deg se bort fra" in page.locator("pre.diff").first.inner_text()
    page.screenshot(path=str(SHOTS / "review-version.png"), full_page=True)

    # a stale hash: the form names another version than the one stored
    page.fill("#comment", "checked")
    page.evaluate("document.querySelector('input[name=sha256]').value = '0'.repeat(64)")
    page.click("button[value=approve]")
    assert "[stale-hash]" in page.content()
    assert Reviews(ledger).version(draft.id).state is VersionState.DRAFT

    page.fill("#comment", "friendlier, same meaning; checked nb proof cases")
    page.click("button[value=approve]")
    assert f"v{draft.id} approved by bjorn" in page.content()
    decided = Reviews(ledger).version(draft.id)
    assert (decided.state, decided.reviewed_by, decided.sha256) == (
        VersionState.APPROVED,
        "bjorn",
        draft.sha256,
    )
    audit = page.goto(f"{base}/review/audit")
    assert audit is not None and audit.ok
    assert "approve" in page.content()

    # the next letter is made from the approved version and names it
    letter_id = pipeline.submit(load_job("reminder.nb"))
    pipeline.drain()
    row = ledger.letter(letter_id)
    assert row is not None and row.template_version == str(draft.id)


def test_the_page_needs_a_session_and_sets_a_strict_cookie(site: tuple, browser: object) -> None:
    base, pipeline, _ = site
    accounts.create(pipeline.runtime.ledger, "bjorn", Role.REVIEWER, PASSWORD, by="test")
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/review/audit")
    assert page.url.startswith(f"{base}/review/login")
    page.fill("#name", "bjorn")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "[sign-in-failed]" in page.content()
    page.fill("#name", "bjorn")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "letters_review"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    response = page.goto(f"{base}/review/")
    assert response is not None
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # the page's policy forbids scripts reaching out, even its own
    blocked = page.evaluate("() => fetch('/review/').then(() => 'sent', () => 'blocked')")
    assert blocked == "blocked"
    # a form without the session's token is refused (sent with the session's cookie)
    forged = page.context.request.post(
        f"{base}/review/logout",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data="csrf=forged",
    )
    assert forged.status == 403
    assert page.goto(f"{base}/review/").url == f"{base}/review/"  # still signed in
