"""The web console end to end in headless Chromium (Debian's package, driven by Playwright through
its ``executable_path``; no browser is ever downloaded), against the integration tests' stack.

Every request the browser makes is recorded, and each test asserts that none went anywhere but
127.0.0.1, so the console, /docs and /redoc are
shown to work with no internet. Screenshots go to ``.kadr/artifacts/console/`` (path printed).
"""
from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.stack import ROOT
from tests.helpers import Api

CHROMIUM = Path(os.environ.get("KADR_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / ".kadr" / "artifacts" / "console"
LOCAL_HOSTS = {"127.0.0.1"}
SCREENPLAY = ("INT. KITCHEN - NIGHT\n\nIVAN pours tea.\n\nIVAN\nThe console uploads this.\n\n"
              "EXT. STREET - DAY\n\nMARIA walks past.\n")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package "
                    f"(apt-get install -y --no-install-recommends chromium; .ci/run does it)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Session:
    """One browser context with the outside-request guard, console errors and screenshots."""

    def __init__(self, browser: Any, base: str, width: int, height: int) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.outside: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = self.context.new_page()
        self.page.on("request", self._record)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        # The page's Content-Security-Policy must never have to block anything the console does.
        self.page.on("console", lambda msg: self.errors.append(f"CSP: {msg.text}")
                     if msg.type == "error" and "Content Security Policy" in msg.text else None)
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.set_default_timeout(20_000)

    def _record(self, request: Any) -> None:
        """Every request the page makes, and those for anywhere but 127.0.0.1 (of which there
        must be none). Recorded, not intercepted: routing would carry every uploaded part's
        bytes through the driver."""
        url = request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.outside.append(url)

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        print(f"\nscreenshot: {path}")
        return path

    def sign_in_as(self, role: str) -> None:
        """The local stack's sign-in buttons (its config route offers the tokens)."""
        self.page.goto(self.base + "/")
        self.page.get_by_role("button", name=f"Sign in as {role}").click()
        self.page.wait_for_selector("#sign-out")

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.errors == [], self.errors


@pytest.fixture
def session(browser: Any, api: Api) -> Iterator[Session]:
    opened = Session(browser, api.base, 1280, 900)
    yield opened
    opened.close()


@pytest.fixture
def phone(browser: Any, api: Api) -> Iterator[Session]:
    opened = Session(browser, api.base, 375, 800)
    yield opened
    opened.close()


def _screenplay(tmp_path: Path) -> Path:
    path = tmp_path / "kitchen.txt"
    path.write_text(SCREENPLAY, encoding="utf-8")
    return path


def test_sign_in_upload_and_watch_the_status_change_live(session: Session, api: Api, stack: Any,
                                                         tmp_path: Path) -> None:
    page = session.page
    page.goto(api.base + "/")
    page.wait_for_selector("text=Local stack")
    session.shot("01-sign-in")
    session.sign_in_as("uploader")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.set_input_files("input[type=file]", str(_screenplay(tmp_path)))
    page.get_by_label("Target audience").select_option("12+")
    # Every status the file view shows, as it changes, without any reload of the page.
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r".*#/files/[0-9a-f]+$"))
    file_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#file-status [data-status]")
    page.evaluate("""() => { window.seen = [document.querySelector('#file-status [data-status]').dataset.status];
        new MutationObserver(() => { const s = document.querySelector('#file-status [data-status]');
          if (s && window.seen[window.seen.length - 1] !== s.dataset.status) window.seen.push(s.dataset.status); })
        .observe(document.querySelector('#file-status'), {childList: true, subtree: true}); }""")
    page.wait_for_function("() => ['processing', 'ready', 'db_ready'].includes("
                           "document.querySelector('#file-status [data-status]').dataset.status)", timeout=30_000)
    seen = page.evaluate("window.seen")
    assert seen[-1] in ("processing", "ready", "db_ready"), seen
    statuses = ["pending", "processing", "ready", "db_ready"]
    assert [statuses.index(s) for s in seen] == sorted(statuses.index(s) for s in seen), f"went backwards: {seen}"
    # The refer-key download URL arrives with the move to processing (live or by polling).
    page.wait_for_function("() => (document.querySelector('#refer-url') || {}).value")
    assert re.search(r"/download/[A-Za-z0-9_-]{20,}$", page.input_value("#refer-url"))
    mode = page.get_attribute("#live-mode", "data-mode")
    # Extension point: once the WebSocket gateway is in this stack (config "ws"), mode is "live".
    assert mode == ("live" if json.loads(api.get("/console/config.json").text)["ws"] else "polling"), mode

    # A key re-issued elsewhere (here: by the API client) reaches the open page without a reload:
    # pushed as a "refer" message on the live channel, or read by the next poll.
    reissued = api.post(f"/files/{file_id}/refer", role="uploader")
    assert reissued.status_code == 200, reissued.text
    page.wait_for_function(f"() => document.querySelector('#refer-url').value === {json.dumps(reissued.json()['url'])}",
                           timeout=15_000)

    stored = api.get(f"/files/{file_id}", role="uploader").json()
    assert stored["filename"] == "kitchen.txt" and stored["target_audience"] == "12+"
    assert stored["size"] == len(SCREENPLAY.encode()) and stored["status"] in ("processing", "ready", "db_ready")

    if ("GET", "/files/{file_id}/report") in _routes(stack):
        # The rating service is merged: the report appears once the file is db_ready.
        page.wait_for_selector("#rating", timeout=60_000)
        assert page.inner_text("#rating").strip() in ("0+", "6+", "12+", "16+", "18+")
        page.wait_for_selector("text=Findings by scene")
    else:
        assert "being analysed" in page.inner_text("#report-waiting")
    # The target audience is settable after the upload started (PATCH /files/{id}) — or says why not.
    page.get_by_label("Target audience").select_option("16+")
    page.get_by_role("button", name="Save target").click()
    if ("PATCH", "/files/{file_id}") in _routes(stack):
        page.wait_for_selector("text=Saved.")
        assert api.get(f"/files/{file_id}", role="uploader").json()["target_audience"] == "16+"
    else:
        page.wait_for_selector("text=not available on this server yet")
    session.shot("02-file-live")

    page.get_by_role("link", name="Files", exact=True).click()
    page.wait_for_selector(f"a[href='#/files/{file_id}']")
    assert page.get_by_role("link", name="kitchen.txt").count() >= 1
    session.shot("03-files-list")


def _routes(stack: Any) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in stack.app.routes.items() for method in methods}


def test_an_upload_resumes_after_a_reload(session: Session, api: Api, tmp_path: Path) -> None:
    """A part is stored, the page reloads (the upload state is in localStorage), the user picks
    the same file again and the console uploads only what S3 lacks, then completes."""
    page = session.page
    session.sign_in_as("uploader")
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * (5 * 1024 * 1024) + b"tail\n")  # two parts at the stack's 5 MiB
    page.get_by_role("link", name="Upload", exact=True).click()
    page.set_input_files("input[type=file]", str(path))
    # Part 2 cannot reach storage (retried with backoff meanwhile); part 1 is stored; then reload.
    failures = {"n": 0}

    def unreachable(route: Any) -> None:
        failures["n"] += 1
        route.abort()

    part_2 = re.compile(r".*[?&]partNumber=2(&.*)?$")
    page.route(part_2, unreachable)
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function("() => Object.keys(JSON.parse(localStorage.getItem('kadr.uploads') || '{}')).length === 1")
    record = page.evaluate("Object.values(JSON.parse(localStorage.getItem('kadr.uploads')))[0]")
    deadline = time.monotonic() + 30
    # The page's waits (not time.sleep) let Playwright run the route handler meanwhile.
    while time.monotonic() < deadline and not (
            failures["n"] and api.get(f"/files/{record['id']}/parts", role="uploader").json()["parts"]):
        page.wait_for_timeout(200)
    assert [p["part_number"] for p in api.get(f"/files/{record['id']}/parts", role="uploader").json()["parts"]] == [1], page.inner_text("main")
    assert failures["n"] >= 1
    page.reload()  # ends the first page's retries of part 2; only then may part 2 get through
    page.unroute(part_2)
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_selector("text=Unfinished uploads")
    session.shot("04-resume")
    page.set_input_files(f"input[aria-label='Choose {record['name']} again to resume']", str(path))
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    page.get_by_role("button", name=f"Resume {record['name']}").click()
    page.wait_for_selector("#file-status, .resumable [role=alert]", timeout=30_000)
    assert page.url.endswith(f"#/files/{record['id']}"), page.inner_text("main")
    assert puts and all("partNumber=2" in u for u in puts), puts  # part 1 was not sent again
    stored = api.get(f"/files/{record['id']}", role="uploader").json()
    assert stored["size"] == path.stat().st_size and stored["status"] != "error"
    assert page.evaluate("localStorage.getItem('kadr.uploads')") == "{}"


def test_edit_a_page_create_add_items_reorder_delete(session: Session, api: Api) -> None:
    page = session.page
    page.goto(api.base + "/")
    # The paste path: a token from outside the page.
    page.get_by_label("Bearer token").fill(api.tokens["editor"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("text=New page title")
    title = f"Console page {time.time_ns()}"
    page.get_by_label("New page title").fill(title)
    page.get_by_role("button", name="Create page").click()
    page.wait_for_url(re.compile(r".*#/pages/[0-9a-f]+$"))
    page_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("text=This page has no items yet.")

    add = page.locator("section", has=page.get_by_role("heading", name="Add an item"))
    add.get_by_label("Title", exact=True).fill("Opening text")
    add.get_by_label("Body", exact=True).fill("Hello from the console")
    add.get_by_role("button", name="Add item").click()
    page.wait_for_selector("#items >> text=Opening text")
    add.get_by_label("Type").select_option("video")
    add.get_by_label("Title", exact=True).fill("Trailer")
    add.get_by_label("Video URL").fill("https://cdn.example.com/trailer.mp4")
    add.get_by_role("button", name="Add item").click()
    page.wait_for_selector("#items >> text=Trailer")
    add.get_by_label("Type").select_option("audio")
    add.get_by_label("Title", exact=True).fill("Interview")
    add.get_by_label("Transcript", exact=True).fill("Q and A")
    add.get_by_role("button", name="Add item").click()
    page.wait_for_selector("#items >> text=Interview")

    # Edit an item's field.
    page.get_by_text("Edit “Opening text”").click()
    item = page.locator("#items li", has=page.get_by_text("Edit “Opening text”"))
    item.get_by_label("Body", exact=True).fill("Edited in the console")
    item.get_by_role("button", name="Save item").click()
    page.wait_for_selector("text=Item saved.")

    # Reorder by keyboard: focus "Move up" on the audio item and press Enter.
    page.get_by_role("button", name="Move “Interview” up").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#items li h3').textContent.startsWith('1. Opening text')"
                           " && document.querySelectorAll('#items li')[1].textContent.includes('Interview')")
    detail = api.get(f"/pages/{page_id}/items/{_item_id(api, page_id, 'Opening text')}").json()
    assert detail["body"] == "Edited in the console"
    assert _titles(api, page_id) == ["Opening text", "Interview", "Trailer"]
    session.shot("05-page-editor")

    page.get_by_role("button", name="Delete “Trailer”").click()
    page.wait_for_selector("text=Item deleted.")
    assert _titles(api, page_id) == ["Opening text", "Interview"]

    page.get_by_role("link", name="← All pages").click()
    page.get_by_label("Search by title").fill(title[:14])
    page.wait_for_selector(f"a:text-is('{title}')")
    page.get_by_label("Search by title").fill("zzz-no-such-title")
    page.wait_for_selector("text=No page title starts with")
    page.goto(f"{api.base}/#/pages/{page_id}")
    page.get_by_role("button", name="Delete page").click()
    page.wait_for_url(re.compile(r".*#/pages$"))
    assert api.get(f"/pages/{page_id}").status_code == 404


def _titles(api: Api, page_id: str) -> list[str]:
    return [item["title"] for item in api.get(f"/pages/{page_id}").json()["items"]]


def _item_id(api: Api, page_id: str, title: str) -> str:
    return next(item["id"] for item in api.get(f"/pages/{page_id}").json()["items"] if item["title"] == title)


def test_phone_width_and_keyboard(phone: Session, api: Api, tmp_path: Path) -> None:
    page = phone.page
    phone.sign_in_as("uploader")
    page.goto(api.base + "/#/upload")
    page.set_input_files("input[type=file]", str(_screenplay(tmp_path)))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the upload view scrolls sideways at phone width ({width} px)"
    phone.shot("06-phone-upload")
    # From the top of the page, Tab alone reaches the upload button, with a visible focus ring.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.locator("body").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "upload-button":
            break
    else:
        raise AssertionError("Tab never reached the upload button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*#/files/[0-9a-f]+$"), timeout=30_000)
    page.wait_for_selector("#file-status [data-status]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.shot("07-phone-file")
    page.get_by_role("link", name="Files", exact=True).click()
    page.wait_for_selector("table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the files list scrolls sideways"
    phone.shot("08-phone-files")


def test_docs_and_redoc_render_with_no_internet(session: Session, api: Api) -> None:
    page = session.page
    page.goto(api.base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Kadr" in page.inner_text(".swagger-ui .info .title")
    session.shot("09-docs", full_page=False)
    page.goto(api.base + "/redoc")
    page.wait_for_selector("h1:has-text('Kadr')", timeout=30_000)
    session.shot("10-redoc", full_page=False)
    assert not session.outside and any("/docs-assets/" in u for u in session.requests)


def test_a_refused_token_and_a_missing_file_say_what_happened(session: Session, api: Api) -> None:
    page = session.page
    page.goto(api.base + "/")
    page.get_by_label("Bearer token").fill("not-a-token")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("text=That is not a Kadr token.")
    session.sign_in_as("uploader")
    page.goto(api.base + "/#/files/" + "0" * 32)
    page.wait_for_selector("[role=alert] >> text=No such file")
    assert "no such file" in page.inner_text("[role=alert]").lower()  # the API's own error.message
    # An id from the address bar that is no server id never reaches an API path ("../pages/<id>").
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(api.base + "/#/files/..%2Fpages%2F" + "0" * 32)
    page.wait_for_selector("h1 >> text=Not found")
    assert not [url for url in requested if "/pages/" in url or "%2F" in url], requested
    # A forged token: the API's 401 signs the user out and says why.
    page.evaluate("sessionStorage.setItem('kadr.token', sessionStorage.getItem('kadr.token').slice(0, -4) + 'AAAA')")
    page.goto(api.base + "/#/files")
    page.wait_for_selector("text=The API refused your token")
    session.shot("11-signed-out")


REPORT = {
    "file_id": None, "status": "db_ready", "rating": "16+", "ai_rating": "16+", "target_audience": "12+",
    "exceeds_target": True, "labelling": [], "truncated": False,
    "findings": [
        {"id": "f1", "category": "violence.graphic", "category_name": "Graphic violence", "severity": "severe",
         "age": "16+", "basis": "436-FZ art. 5", "qualifiers": ["naturalism"], "scene": 2, "scene_label": "2",
         "line": 7, "excerpt": "He stabs the guard.", "evidence": "stabs", "advice": "Cut the close-up."},
        {"id": "f2", "category": "language.mild", "category_name": "Rude words", "severity": "mild",
         "age": "12+", "basis": "", "qualifiers": [], "scene": 3, "scene_label": "3", "line": 12,
         "excerpt": "Damn it.", "evidence": "damn", "advice": ""},
    ],
    # Scenes count their findings (the rating service's shape); a list of finding ids renders too.
    "scenes": [{"scene": 2, "scene_label": "2", "heading": "INT. PRISON - NIGHT", "rating": "16+", "findings": 1,
                "exceeds_target": True},
               {"scene": 3, "scene_label": "3", "heading": "EXT. YARD - DAY", "rating": "12+", "findings": ["f2"]}],
    "categories": [{"category": "violence.graphic", "name": "Graphic violence", "severity": "severe", "age": "16+",
                    "findings": 1}],
    "qualifiers": {"naturalism": "shown in detail in the action lines", "constructor": 7},
}


def test_the_report_view_against_the_documented_shapes(session: Session, api: Api, tmp_path: Path) -> None:
    """The rating routes' documented shapes (report, comments, xlsx), served by the browser's own
    route handlers on a real file: the console renders findings by scene and what exceeds the
    target, posts a comment with a severity override and downloads the workbook. Once the rating
    service is merged, the upload test above reaches the same view for real."""
    from tests.helpers import upload_file

    file = upload_file(api, SCREENPLAY.encode(), target_audience="12+", filename="prison.txt")
    posted: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []

    def file_route(route: Any) -> None:
        real = api.get(f"/files/{file['id']}", role="uploader").json()
        route.fulfill(json={**real, "status": "db_ready"})

    def report_route(route: Any) -> None:
        if "format=xlsx" in route.request.url:
            route.fulfill(body=b"PK\x03\x04workbook", headers={"Content-Type": XLSX_TYPE})
        else:
            route.fulfill(json={**REPORT, "file_id": file["id"], "exceedances": [REPORT["findings"][0]]})

    def comments_route(route: Any) -> None:
        if route.request.method == "POST":
            body = json.loads(route.request.post_data)
            posted.append(body)
            comments.append({"id": f"c{len(comments)}", "author": "user", "sub": "local-uploader",
                             "created_at": "2026-11-23T22:00:00.000Z", "finding_id": None, "category": None,
                             "severity": None, "scene": None, **body})
            route.fulfill(status=201, json=comments[-1])
        else:
            route.fulfill(json={"comments": comments, "next": None})

    page = session.page
    page.route(re.compile(rf".*/files/{file['id']}$"), file_route)
    page.route(re.compile(rf".*/files/{file['id']}/report(\?.*)?$"), report_route)
    page.route(re.compile(rf".*/files/{file['id']}/comments(\?.*)?$"), comments_route)
    session.sign_in_as("uploader")
    page.goto(f"{api.base}/#/files/{file['id']}")
    page.wait_for_selector("#rating")
    assert page.inner_text("#rating") == "16+"
    assert "Exceeds the target 12+" in page.inner_text("#exceeds")
    assert "He stabs the guard." in page.inner_text("section:has(#exceed-title)")
    scenes = page.locator("details.scene")
    assert scenes.count() == 2 and "INT. PRISON - NIGHT" in scenes.nth(0).inner_text()
    scenes.nth(0).locator("summary").click()
    assert scenes.nth(0).locator("blockquote").inner_text() == "He stabs the guard."
    # A qualifier explains itself on hover; a name the report does not explain (or explains with no text) stays plain.
    assert scenes.nth(0).locator("abbr").get_attribute("title") == "shown in detail in the action lines"
    assert "exceeds the target" in scenes.nth(0).locator("summary").inner_text()
    scenes.nth(1).locator("summary").click()
    assert scenes.nth(1).locator("blockquote").inner_text() == "Damn it."
    page.wait_for_selector("text=No comments yet.")

    page.get_by_label("Comment", exact=True).fill("The stabbing is shown from afar; moderate.")
    page.get_by_label("About a finding (optional)").select_option("f1")
    page.get_by_label("Severity (optional)").select_option("moderate")
    page.get_by_role("button", name="Add comment").click()
    page.wait_for_selector(".comment >> text=The stabbing is shown from afar")
    assert posted == [{"text": "The stabbing is shown from afar; moderate.", "finding_id": "f1",
                       "category": "violence.graphic", "scene": "2", "severity": "moderate"}]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (.xlsx)").click()
    assert download.value.suggested_filename == "prison-report.xlsx"
    session.shot("12-report")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_live_updates_over_the_websocket_channel(session: Session, api: Api) -> None:
    """The console's WebSocket client against the channel's documented messages, with Playwright
    standing in for the gateway (this stack has none yet): it connects with ?token=, subscribes,
    shows a status and a refer URL as they arrive, and drops a duplicate sequence."""
    from tests.helpers import upload_file

    file = upload_file(api, SCREENPLAY.encode(), filename="live.txt")
    gateway = "ws://127.0.0.1:9"  # nothing listens there: the route below answers
    page = session.page
    sockets: list[Any] = []
    received: list[dict[str, Any]] = []

    def config_with_ws(route: Any) -> None:
        route.fulfill(json={**route.fetch().json(), "ws": gateway + "/"})

    def page_with_ws_csp(route: Any) -> None:
        response = route.fetch()
        csp = response.headers["content-security-policy"]
        assert gateway not in csp  # the server allows only the ws origin it is configured with
        route.fulfill(response=response, headers={
            **response.headers, "content-security-policy": csp.replace("connect-src 'self'", f"connect-src 'self' {gateway}")})

    def gateway_socket(ws: Any) -> None:
        sockets.append(ws)

        def on_message(message: str) -> None:
            data = json.loads(message)
            received.append(data)
            if data.get("action") == "subscribe":  # the gateway's reply: where the subscription starts
                now = api.get(f"/files/{file['id']}", role="uploader").json()
                ws.send(json.dumps({"type": "subscribed", "file_id": file["id"], "status": now["status"],
                                    "sequence": now["sequence"], "at": now["status_at"]}))

        ws.on_message(on_message)

    page.route(re.compile(r".*/console/config\.json$"), config_with_ws)
    page.route(re.compile(rf"^{re.escape(api.base)}/$"), page_with_ws_csp)
    page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:9/.*"), gateway_socket)
    session.sign_in_as("uploader")
    page.goto(f"{api.base}/#/files/{file['id']}")
    page.wait_for_selector("#live-mode[data-mode=live]")
    page.wait_for_function("() => (document.querySelector('#refer-url') || {}).value")
    assert "token=" in sockets[0].url and {"action": "subscribe", "file_id": file["id"]} in received
    sequence = api.get(f"/files/{file['id']}", role="uploader").json()["sequence"]

    sockets[0].send(json.dumps({"type": "status", "file_id": file["id"], "status": "ready",
                                "sequence": sequence + 1, "at": "2026-11-23T22:00:00.000Z"}))
    page.wait_for_selector("#file-status [data-status=ready]")
    sockets[0].send(json.dumps({"type": "status", "file_id": file["id"], "status": "error",
                                "sequence": sequence + 1, "at": "2026-11-23T22:00:00.000Z"}))  # a duplicate
    url = f"{api.base}/download/rotated-key-from-the-channel"
    sockets[0].send(json.dumps({"type": "refer", "file_id": file["id"], "url": url,
                                "expires_at": "2026-11-23T23:00:00.000Z", "sequence": sequence + 2}))
    page.wait_for_function(f"() => document.querySelector('#refer-url').value === {json.dumps(url)}")
    assert _shown_status(page) == "ready"  # the duplicate changed nothing
    sockets[0].send(json.dumps({"type": "refer", "file_id": file["id"], "event": "expired", "url": None,
                                "expires_at": "2026-11-23T23:00:00.000Z", "sequence": sequence + 3}))
    page.wait_for_selector("#refer >> text=download key has expired")
    session.shot("13-live-websocket")


def _shown_status(page: Any) -> str:
    return page.get_attribute("#file-status [data-status]", "data-status")


def test_roles_decide_the_views(session: Session, api: Api) -> None:
    """A reader sees pages read-only and no files; an uploader's file views are not a reader's."""
    made = api.create_page(f"Reader page {time.time_ns()}", [{"type": "text", "title": "Readable", "body": "Text"}])
    page = session.page
    session.sign_in_as("reader")
    assert [a.inner_text() for a in page.query_selector_all("#nav a")] == ["Pages"]
    page.wait_for_selector("h1:text-is('Pages')")
    assert page.get_by_role("button", name="Create page").count() == 0
    page.goto(f"{api.base}/#/pages/{made['id']}")
    page.wait_for_selector("#items >> text=Readable")
    assert page.get_by_role("button", name="Delete page").count() == 0
    assert page.get_by_role("button", name="Add item").count() == 0
    page.goto(f"{api.base}/#/upload")
    page.wait_for_selector("text=Your role cannot use files")
    session.shot("14-reader")
    api.delete(f"/pages/{made['id']}")


def test_a_bulk_task_shows_its_accounts_and_its_log_live(session: Session, api: Api) -> None:
    """Issue 10: the task's accounts reach their statuses, a failing account's log says why, the
    account filter narrows the log, and a new line (a cancel) arrives without a reload."""
    import hashlib

    from tests.helpers import upload_parts

    data = [f"INT. ROOM {i} - DAY\n".encode() for i in range(3)]
    items = [{"filename": f"scene-{i}.txt", "size": len(d), "content_type": "text/plain", "kind": "screenplay",
              "account": account} for i, (d, account) in enumerate(zip(data, ["alpha", "beta", "gamma"]))]
    items[1]["sha256"] = hashlib.sha256(b"not these bytes").hexdigest()  # beta fails on its sha256
    made = api.post("/bulk-uploads", role="uploader", json={"name": "Console bulk", "items": items})
    assert made.status_code == 201, made.text
    task = made.json()
    for i in (0, 1):  # gamma stays pending, to be cancelled from the console
        entry = task["items"][i]
        parts = upload_parts(api, {"id": entry["file_id"], "upload": entry["upload"]}, data[i])
        done = api.post(f"/files/{entry['file_id']}/complete", role="uploader", json={"parts": parts})
        assert done.status_code == 200, done.text

    session.sign_in_as("uploader")
    page = session.page
    page.get_by_role("link", name="Bulk uploads").click()
    page.get_by_role("link", name="Console bulk").click()
    page.wait_for_selector('tr[data-account="alpha"] [data-status="completed"]')
    page.wait_for_selector('tr[data-account="beta"] [data-status="failed"]')
    page.wait_for_selector("li.log-error")
    assert "sha256" in page.locator("li.log-error").first.inner_text()
    page.get_by_label("Account", exact=True).select_option("alpha")
    page.wait_for_function("() => [...document.querySelectorAll('li.log')].length > 0 && "
                           "[...document.querySelectorAll('li.log .log-account')].every(e => e.textContent === 'alpha')")
    page.get_by_label("Account", exact=True).select_option("*")
    page.wait_for_selector("li.log-error")
    session.shot("bulk-task")
    lines_before = page.locator("li.log").count()
    page.get_by_role("button", name="Cancel pending of gamma").click()  # the confirm dialog is accepted
    page.wait_for_selector('tr[data-account="gamma"] [data-status="failed"]')
    page.wait_for_function(f"() => document.querySelectorAll('li.log').length > {lines_before}")
    assert "cancel" in page.locator("li.log").last.inner_text().lower()
    assert any("/bulk-uploads/" in url for url in session.requests)
