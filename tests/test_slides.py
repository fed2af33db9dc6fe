"""The teaching slides: built strictly with sphinx-revealjs, then opened in a real browser.

One build per session (``sphinx-build -W --keep-going -b revealjs slides _build/slides``);
the decks are served from 127.0.0.1 and driven by Debian's Chromium through Playwright,
with every request outside 127.0.0.1 refused and recorded (the helpers of test_browser).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .book import BUILD, REPO, chapter_title, sphinx
from .test_browser import Visit, serve_folder
from .test_browser import browser  # noqa: F401  (a fixture: one Chromium per module)

pytestmark = pytest.mark.book

SLIDES = REPO / "slides"
OUT = BUILD / "slides"
DECKS = {
    "part1-evidence": ["01-introduction", "02-evidence-base", "03-framework"],
    "part2-coding": ["04-coding", "05-modes"],
    "part3-networks": ["06-networks", "07-simulation"],
    "part4-comparison": ["08-request-records", "09-index", "10-comparison"],
}
WIDTH, HEIGHT = 1280, 720


@pytest.fixture(scope="session")
def slides_build() -> Path:
    result = sphinx("-W", "--keep-going", "-b", "revealjs", str(SLIDES), str(OUT))
    assert result.returncode == 0, result.output[-6000:]
    return OUT


@pytest.fixture(scope="module")
def slides_server(slides_build):
    with serve_folder(slides_build) as base:
        yield base


def open_deck(chromium, base: str, name: str) -> Visit:
    visit = Visit(chromium, base)
    visit.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    visit.open(f"{name}.html")
    visit.page.wait_for_function("window.Reveal !== undefined && Reveal.isReady()", timeout=15_000)
    return visit


def source_slides(name: str) -> list[tuple[int, str]]:
    """(level, title) of every heading of a deck's MyST source, outside code cells.

    sphinx-revealjs makes each heading of level 1 to 3 a slide, so this is the deck
    the browser should show, read from the source rather than from the built HTML.
    """
    headings, fenced = [], False
    for line in (SLIDES / f"{name}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"(#{1,3}) (.+)", line)
        if match and not fenced:
            headings.append((len(match.group(1)), match.group(2).strip()))
    return headings


def test_the_build_writes_every_deck_and_reveal_js_from_the_build(slides_build):
    for name in ["index", *DECKS]:
        html = (slides_build / f"{name}.html").read_text(encoding="utf-8")
        assert "Reveal.initialize(" in html, name
        assert re.search(r'src="_static/revealjs/dist/reveal\.js', html), name
        # no stylesheet, script or image is addressed to another host
        assert not re.search(r'(src|href)="(https?:)?//', html), name
    assert (slides_build / "_static" / "revealjs" / "dist" / "reveal.js").is_file()
    theme = (slides_build / "_static" / "revealjs" / "dist" / "theme" / "white.css").read_text(encoding="utf-8")
    assert "googleapis" not in theme and "@import url(./fonts/" in theme


@pytest.mark.parametrize("name", ["index", *DECKS])
def test_a_deck_loads_clean_and_stays_local(browser, slides_server, name):  # noqa: F811
    visit = open_deck(browser, slides_server, name)
    try:
        assert visit.outside == [], visit.outside
        assert visit.console_errors == [] and visit.page_errors == [], (visit.console_errors, visit.page_errors)
        assert visit.failed == [], visit.failed
        assert visit.http_errors == [], visit.http_errors
        fetched = [r for r in visit.requests if r.startswith(slides_server)]
        assert any(r.endswith("/_static/revealjs/dist/reveal.js") for r in fetched), fetched
        # the theme's font really came from the build, so text is not set in a fallback
        assert visit.page.evaluate(
            "Array.from(document.fonts).some(f => f.family.replace(/[\"']/g, '') === 'Source Sans Pro'"
            " && f.status === 'loaded')")
        assert any("source-sans-pro" in r for r in fetched), fetched
    finally:
        visit.close()


@pytest.mark.parametrize("name", DECKS)
def test_a_deck_has_its_slides_and_the_right_arrow_advances(browser, slides_server, name):  # noqa: F811
    expected = source_slides(name)
    assert expected[0][0] == 1 and all(level == 2 for level, _ in expected[1:]), expected
    assert 8 <= len(expected) <= 14, f"{name}: {len(expected)} slides"
    visit = open_deck(browser, slides_server, name)
    try:
        page = visit.page
        assert page.evaluate("Reveal.getTotalSlides()") == len(expected)
        assert page.evaluate("Reveal.getIndices()")["h"] == 0
        titles = page.evaluate("Array.from(document.querySelectorAll('.reveal .slides > section h1, "
                               ".reveal .slides > section h2')).map(h => h.textContent.trim())")
        assert titles == [title for _, title in expected]
        page.keyboard.press("ArrowRight")
        page.wait_for_function("Reveal.getIndices().h === 1")
        assert page.evaluate("Reveal.getCurrentSlide().querySelector('h2').textContent.trim()") == expected[1][1]
        page.keyboard.press("ArrowRight")
        page.wait_for_function("Reveal.getIndices().h === 2")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("Reveal.getIndices().h === 1")
        assert visit.console_errors == [] and visit.page_errors == []
    finally:
        visit.close()


def slide_report(page) -> list[dict]:
    """For every slide: title, size of its content, and every image's alt text, pixels and box."""
    return page.evaluate(
        """async () => {
            const report = [];
            for (let h = 0; h < Reveal.getTotalSlides(); h++) {
                Reveal.slide(h, 0);
                await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                const slide = Reveal.getCurrentSlide();
                const images = Array.from(slide.querySelectorAll('img')).map(img => {
                    const box = img.getBoundingClientRect();
                    // object-fit: contain draws the picture inside the box at its own aspect ratio
                    const shown = img.naturalWidth ? Math.min(box.height, box.width * img.naturalHeight / img.naturalWidth) : 0;
                    return {alt: img.getAttribute('alt'), src: img.getAttribute('src'), complete: img.complete, natural: img.naturalWidth,
                            width: box.width, height: shown, top: box.top, bottom: box.bottom,
                            caption: img.closest('figure')?.querySelector('figcaption')?.textContent ?? ''};
                });
                report.push({h, title: slide.querySelector('h1, h2')?.textContent.trim() ?? '',
                             text: slide.innerText, scrollHeight: slide.scrollHeight,
                             scrollWidth: slide.scrollWidth, images});
            }
            return report;
        }"""
    )


@pytest.mark.parametrize("name", DECKS)
def test_figures_have_alt_text_pixels_and_fit_their_slide(browser, slides_server, name):  # noqa: F811
    visit = open_deck(browser, slides_server, name)
    try:
        report = slide_report(visit.page)
        figure_slides = [s for s in report if s["images"]]
        assert 3 <= len(figure_slides) <= 5, [s["title"] for s in figure_slides]
        for slide in report:
            assert slide["scrollHeight"] <= HEIGHT and slide["scrollWidth"] <= WIDTH, (
                f"{name}, slide {slide['h']} ({slide['title']}) overflows: "
                f"{slide['scrollWidth']} x {slide['scrollHeight']}")
            for image in slide["images"]:
                where = f"{name}, slide {slide['h']} ({slide['title']})"
                # without alt text of its own, Sphinx writes the image's path as its alt
                alt = (image["alt"] or "").strip()
                assert alt != image["src"] and not re.search(r"\.(svg|png|jpe?g)$", alt), f"{where}: alt is a path"
                assert len(alt) > 60, f"{where}: alt text {alt!r}"
                assert image["complete"] and image["natural"] > 0, f"{where}: the image has no pixels"
                # large enough to read on a projected 1280 x 720 slide, and inside the viewport
                assert image["height"] >= 400, f"{where}: figure only {image['height']:.0f} px high"
                assert image["top"] >= 0 and image["bottom"] <= HEIGHT, f"{where}: figure off the slide"
                assert image["caption"].strip(), f"{where}: figure without caption"
    finally:
        visit.close()


@pytest.mark.parametrize("name", DECKS)
def test_simulated_results_are_labelled_and_chapters_named(browser, slides_server, name):  # noqa: F811
    visit = open_deck(browser, slides_server, name)
    try:
        report = slide_report(visit.page)
    finally:
        visit.close()
    for slide in report:
        for image in slide["images"]:
            if re.search(r"simulat|monte carlo", image["alt"] + image["caption"], re.IGNORECASE):
                assert "SIMULATED" in slide["title"] and "SIMULATED" in image["caption"], slide["title"]
    titles = [s["title"] for s in report]
    assert titles[1] == "The key question"
    for required in ("Key takeaways", "What the data cannot support", "Discussion"):
        assert required in titles, (name, titles)
    last = report[-1]
    assert last["title"].startswith("Read more: chapter")
    for doc in DECKS[name]:
        assert chapter_title(doc) in last["text"], (name, doc)


def test_takeaways_carry_the_packages_numbers(browser, slides_server):  # noqa: F811
    from hotlines import data

    visit = open_deck(browser, slides_server, "part1-evidence")
    try:
        report = slide_report(visit.page)
    finally:
        visit.close()
    text = next(s["text"] for s in report if s["title"] == "Key takeaways")
    assert f"{len(data.indicators()):,} sourced values" in text
    assert f"{len(data.sources())} sources" in text
    cities = data.cities().query("role != 'coding_case'")
    assert f"on {len(cities)} cities" in text
