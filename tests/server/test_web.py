"""The viewer page at ``/``: served HTML, no outside requests, and a real browser run (when one is installed)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hippodex.server import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATIC = resources.files("hippodex.server") / "static"


@pytest.fixture(scope="module")
def seeded(served):  # type: ignore[no-untyped-def]
    """The module's server with a little of ana's (and one of bob's) memory in it."""
    served.memory.add(
        [
            {"role": "user", "content": "I adopted a greyhound called <b>Pixel</b> last spring."},
            {"role": "assistant", "content": "Congratulations! How is Pixel settling in?"},
        ],
        user_id="ana",
        session_id="s-dogs",
        timestamp="2025-04-02T10:00:00Z",
    )
    served.memory.add(
        [{"role": "user", "content": "My favourite pastry is a cardamom bun from Stockholm."}],
        user_id="ana",
        session_id="s-food",
        timestamp="2025-06-11T08:30:00Z",
    )
    served.memory.add([{"role": "user", "content": "Bob's secret greyhound"}], user_id="bob", session_id="s-bob")
    return served


def test_index_is_html_with_the_search_form(served) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(served.url + "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in r.headers["content-security-policy"]
    for needle in ('id="search-form"', 'id="query"', 'id="api-key"', 'id="user-id"', 'id="sessions"'):
        assert needle in r.text
    for asset, kind in (("web.css", "text/css"), ("web.js", "text/javascript")):
        a = httpx.get(f"{served.url}/static/{asset}")
        assert a.status_code == 200 and a.headers["content-type"].startswith(kind)
    assert httpx.get(served.url + "/static/..%2Fweb.py").status_code == 404
    assert httpx.get(served.url + "/static/nope.js").status_code == 404


def test_page_makes_no_request_outside_the_server() -> None:
    for name in ("index.html", "web.css", "web.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE), name
        assert "@import" not in text and "url(" not in text, name
    js = (STATIC / "web.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    for path in re.findall(r'(?:src|href)="([^"]+)"', (STATIC / "index.html").read_text(encoding="utf-8")):
        assert not urlsplit(path).netloc and urlsplit(path).scheme in ("", "data"), path


def test_web_key_lists_the_bound_user_ids(served, running) -> None:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {served.ana}"}
    assert httpx.get(served.url + "/web/key", headers=auth).json() == {
        "auth": True,
        "admin": False,
        "user_ids": ["ana"],
    }
    assert httpx.get(served.url + "/web/key").status_code == 401
    bad = {"Authorization": f"Bearer {served.revoked}"}
    assert httpx.get(served.url + "/web/key", headers=bad).status_code == 401
    with running(create_app(served.memory, auth=None)) as url:
        assert httpx.get(url + "/web/key").json()["auth"] is False


def test_browser_search_and_timeline(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    host = urlsplit(seeded.url).netloc
    outside: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda req: None if urlsplit(req.url).netloc == host else outside.append(req.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(seeded.url + "/")
            page.fill("#api-key", seeded.ana)
            page.locator("#api-key").dispatch_event("change")
            # the key is bound to ana alone, so the page fills the user id in itself
            sync_api.expect(page.locator("#user-id")).to_have_value("ana")
            page.fill("#query", "greyhound")
            page.click("#search-form button[type=submit]")
            hit = page.locator("#results li.card").first
            sync_api.expect(hit).to_contain_text("I adopted a greyhound called <b>Pixel</b> last spring.")
            sync_api.expect(hit.locator(".channels")).to_contain_text("lexical #1")
            sync_api.expect(hit).to_contain_text("session s-dogs")
            assert page.locator("#results b").count() == 0  # content shown as text, not markup
            assert "secret" not in page.locator("#results").inner_text()

            page.click("#load-sessions")
            sessions = page.locator("#sessions li.session")
            sync_api.expect(sessions).to_have_count(2)
            sync_api.expect(sessions.first).to_contain_text("s-food")  # most recent first
            sessions.filter(has_text="s-dogs").locator("button").click()
            episodes = page.locator("#episodes li.card")
            sync_api.expect(episodes).to_have_count(2)
            sync_api.expect(episodes.nth(1)).to_contain_text("How is Pixel settling in?")
            assert page.evaluate("sessionStorage.getItem('hippodex.apiKey')") == seeded.ana

            shot = tmp_path / "web.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")

            page.fill("#user-id", "bob")  # the key may not read bob: the page says so
            page.click("#search-form button[type=submit]")
            sync_api.expect(page.locator("#status")).to_contain_text("forbidden")
        finally:
            browser.close()
    assert not outside, outside
    assert not [e for e in errors if "403" not in e], errors


def test_browser_pages_through_more_sessions_than_one_page(served) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    for n in range(203):  # the page asks for 200 sessions at a time
        served.memory.add(f"note {n}", user_id="many", session_id=f"m-{n:03d}", timestamp="2024-01-01T00:00:00Z")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(served.url + "/")
            page.fill("#api-key", served.admin)
            page.fill("#user-id", "many")
            page.click("#load-sessions")
            sessions = page.locator("#sessions li.session")
            sync_api.expect(sessions).to_have_count(200)
            sync_api.expect(page.locator("#session-count")).to_have_text("(200+)")
            page.click("#more-sessions")
            sync_api.expect(sessions).to_have_count(203)
            sync_api.expect(page.locator("#session-count")).to_have_text("(203)")
            sync_api.expect(page.locator("#more-sessions")).to_be_hidden()
        finally:
            browser.close()
