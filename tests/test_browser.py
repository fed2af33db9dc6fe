"""The built HTML in a real browser: Debian's Chromium driven by Playwright.

Pages are served from 127.0.0.1 by a real HTTP server. Every request is recorded;
any request to another host is refused and fails the test.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .book import chapter_docs

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@contextlib.contextmanager
def serve_folder(folder: Path):
    """A real HTTP server on 127.0.0.1 serving a built folder; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def server(html_build):
    with serve_folder(html_build) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Visit:
    """A page opened with every request and console message recorded."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed: list[str] = []
        self.http_errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.http_errors.append(f"{r.status} {r.url}"))

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, path: str):
        self.page.goto(f"{self.base}/{path}", wait_until="networkidle")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    """A fresh browser context; after the test, it must have stayed clean and local."""
    opened = Visit(browser, server)
    yield opened
    opened.close()
    assert opened.outside == [], opened.outside
    assert opened.console_errors == [] and opened.page_errors == [], (opened.console_errors, opened.page_errors)
    assert opened.http_errors == [], opened.http_errors


def pages(html_root: Path) -> list[str]:
    return sorted(p.name for p in html_root.glob("*.html") if p.name not in ("genindex.html", "search.html"))


def test_every_page_loads_clean_and_stays_local(browser, server, html_build):
    names = pages(html_build)
    assert {f"{d}.html" for d in chapter_docs()} <= set(names)
    for name in names:
        visit = Visit(browser, server)
        try:
            visit.open(name)
            assert visit.page.title(), name
            assert visit.console_errors == [], (name, visit.console_errors)
            assert visit.page_errors == [], (name, visit.page_errors)
            assert visit.outside == [], (name, visit.outside)
            assert visit.failed == [], (name, visit.failed)
            assert visit.http_errors == [], (name, visit.http_errors)
            assert len(visit.requests) > 3  # the page, its CSS and scripts really were fetched here
            no_alt = visit.page.eval_on_selector_all("img", "imgs => imgs.filter(i => !(i.alt || '').trim()).map(i => i.src)")
            assert no_alt == [], (name, "images without alt text", no_alt)
        finally:
            visit.close()


def test_figures_have_pixels_and_alt_text(visit):
    from io import BytesIO

    from PIL import Image

    page = visit.open("02-evidence-base.html")
    figure = page.locator("figure#fig-evidence-coverage img")
    figure.scroll_into_view_if_needed()
    size = figure.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 300 and size[2] > 200
    assert len(figure.get_attribute("alt") or "") > 40
    image = Image.open(BytesIO(figure.screenshot())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 8, "the figure renders as a flat area"


def test_a_cross_reference_lands_on_its_figure(visit):
    page = visit.open("02-evidence-base.html")
    page.locator('a.reference.internal[href="#fig-evidence-coverage"]').first.click()
    page.wait_for_function("location.hash === '#fig-evidence-coverage'")
    box = page.locator("#fig-evidence-coverage").bounding_box()
    assert box is not None
    assert 0 <= box["y"] < page.viewport_size["height"], "the figure is not scrolled into view"


def test_a_cross_chapter_reference_lands_on_its_table(visit):
    page = visit.open("01-introduction.html")
    page.locator('a.reference.internal[href="#tbl-cities-typologies"]').first.click()
    page.wait_for_function("location.hash === '#tbl-cities-typologies'")
    assert "Beijing" in page.locator("#tbl-cities-typologies").inner_text()


@pytest.mark.parametrize("query, expected_page", [("接诉即办", "01-introduction.html"), ("cross_level_escalation", "03-framework.html")])
def test_offline_search_finds_a_chinese_term_and_a_code_name(visit, query, expected_page):
    page = visit.open(f"search.html?q={query}")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))")
    assert any(href.split("?")[0].split("#")[0].endswith(expected_page) for href in hrefs), (query, hrefs)


def test_a_solution_is_hidden_until_its_toggle_is_pressed(visit):
    page = visit.open("05-modes.html")
    solution = page.locator("div.solution").first
    solution.scroll_into_view_if_needed()
    code = solution.locator("div.cell").first
    assert not code.is_visible(), "the solution's code shows before the toggle is pressed"
    solution.locator("button.toggle-button, .admonition-title").first.click()
    code.wait_for(state="visible", timeout=10_000)
    assert code.is_visible()


def test_a_downloaded_notebook_is_a_valid_notebook(visit, tmp_path):
    import nbformat

    page = visit.open("05-modes.html")
    page.locator("button[aria-label='Download this page']").first.click()
    link = page.locator("a[href$='05-modes.ipynb']").first
    link.wait_for(state="visible", timeout=10_000)
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "05-modes.ipynb"
    download.value.save_as(target)
    notebook = nbformat.read(target, as_version=4)
    nbformat.validate(notebook)
    assert any(cell.cell_type == "code" and cell.outputs for cell in notebook.cells)


def test_light_and_dark_themes_switch(visit):
    page = visit.open("01-introduction.html")
    colours = {}
    for mode in ("dark", "light"):
        page.locator("button.theme-switch-button:visible").first.click()
        page.locator(f"button.theme-change-button[data-mode='{mode}']:visible").first.click()
        page.wait_for_function(f"document.documentElement.dataset.theme === '{mode}'")
        colours[mode] = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colours["light"] != colours["dark"], colours


def test_print_style_leaves_out_the_navigation(visit):
    page = visit.open("05-modes.html")
    assert page.locator(".bd-sidebar-primary").first.is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".bd-sidebar-primary").first.is_visible()
    assert page.locator("article").first.is_visible()
