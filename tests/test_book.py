"""The book builds to HTML and PDF, fails on what must fail, and reads back right."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .book import BUILD, CHAPTERS, REPO, build_html, build_pdf, chapter_docs, chapter_title, sphinx

pytestmark = pytest.mark.book

CHINESE_TERMS = ["接诉即办", "吹哨报到", "首接负责", "12345"]


def test_every_chapter_is_rendered_to_html(html_build):
    for doc in chapter_docs():
        page = html_build / f"{doc}.html"
        assert page.is_file(), doc
        assert chapter_title(doc) in page.read_text(encoding="utf-8")


def test_html_has_numbered_figures_and_tables_with_working_references(html_build):
    page = (html_build / "02-evidence-base.html").read_text(encoding="utf-8")
    assert re.search(r'<span class="caption-number">Figure 2\.1 </span>', page)
    assert re.search(r'<span class="caption-number">Table 2\.1 </span>', page)
    # a {numref} in the text becomes a link to the figure's anchor
    assert re.search(r'<a class="reference internal" href="#fig-evidence-coverage"><span class="std std-numref">Figure 2\.1</span>', page)
    intro = (html_build / "01-introduction.html").read_text(encoding="utf-8")
    assert 'href="#tbl-cities-typologies"' in intro


def test_html_loads_mathjax_locally(html_build):
    assert (html_build / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in html_build.glob("*.html"):
        assert "cdn.jsdelivr.net" not in page.read_text(encoding="utf-8"), page.name


def test_figures_are_exported_as_svg_and_png(html_build):
    figures = REPO / "figures"
    for name in ("evidence-coverage",):
        svg, png = figures / f"{name}.svg", figures / f"{name}.png"
        assert svg.stat().st_size > 1000 and png.stat().st_size > 1000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text(encoding="utf-8")[:2000]


def test_pdf_text_has_every_chapter_and_the_chinese_terms(pdf_build):
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_build), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    for doc in chapter_docs():
        assert chapter_title(doc) in flat, doc
    for term in CHINESE_TERMS:
        assert term in flat, term
    assert "??" not in flat, "an unresolved reference printed as ??"
    assert re.search(r"Figure 2\.1", flat) and re.search(r"Table 2\.1", flat)


def test_latex_log_has_no_missing_character(pdf_build):
    log = (BUILD / "latex" / "hotlines.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log
    assert "undefined references" not in log


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def test_pdf_pages_with_text_have_ink_and_the_figure_has_colour(pdf_build, tmp_path):
    from PIL import Image

    texts = _page_texts(pdf_build)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf_build), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(texts) > 20
    for text, path in zip(texts, images):
        if text.strip():
            lo, hi = Image.open(path).convert("L").getextrema()
            assert hi - lo > 100, f"{path.name} has text but renders blank"
    figure_pages = [i for i, t in enumerate(texts) if re.search(r"Figure 2\.1: Coverage", t)]
    assert figure_pages, "the coverage figure's caption is not in the PDF"
    page = Image.open(images[figure_pages[0]]).convert("HSV")
    saturated = sum(1 for _, s, v in page.get_flattened_data() if s > 100 and v > 80)
    assert saturated > 2000, "the coverage figure has no coloured pixels in the PDF"


# ---------------------------------------------------------------- what must fail


def _scratch_book(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "book"
    src.mkdir()
    shutil.copy(CHAPTERS / "conf.py", src / "conf.py")
    shutil.copy(CHAPTERS / "references.bib", src / "references.bib")
    shutil.copytree(CHAPTERS / "_static", src / "_static")
    header = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
    footer = "\n\n```{bibliography}\n```\n"
    (src / "index.md").write_text(header + "# Scratch\n\n" + body + footer, encoding="utf-8")
    return src


@pytest.mark.parametrize(
    "body, expected",
    [
        ("```{code-cell} ipython3\nraise RuntimeError('a raising cell')\n```\n", "a raising cell"),
        ("See {numref}`fig-that-does-not-exist`.\n", "fig-that-does-not-exist"),
        ("As shown by {cite:p}`nobody1999missing`.\n", "nobody1999missing"),
    ],
    ids=["raising-cell", "broken-cross-reference", "missing-citation"],
)
def test_the_build_fails_on(tmp_path, body, expected):
    src = _scratch_book(tmp_path, body)
    result = sphinx("-W", "--keep-going", "-b", "html", str(src), str(tmp_path / "out"))
    assert result.returncode != 0
    assert expected in result.output


def test_a_clean_scratch_book_builds(tmp_path):
    """The control for the failures above: the same scratch book without the fault builds."""
    src = _scratch_book(tmp_path, "```{code-cell} ipython3\n1 + 1\n```\n\nAs shown by {cite:p}`yan2025vertical`.\n")
    result = sphinx("-W", "--keep-going", "-b", "html", str(src), str(tmp_path / "out"))
    assert result.returncode == 0, result.output[-3000:]


def test_every_chapter_opens_as_a_valid_notebook(tmp_path):
    """What JupyterLab does through jupytext: each MyST chapter becomes a valid nbformat notebook."""
    import jupytext
    import nbformat

    for doc in chapter_docs():
        notebook = jupytext.read(CHAPTERS / f"{doc}.md")
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        assert notebook.cells[0].cell_type == "markdown"
    evidence = jupytext.read(CHAPTERS / "02-evidence-base.md")
    assert sum(c.cell_type == "code" for c in evidence.cells) >= 4


def test_pdf_pages_keep_inside_the_margins_and_resolve_every_reference(pdf_build, tmp_path):
    """Nothing (table, figure, code line) runs into the page margin; LaTeX resolved every reference."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf_build), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) > 100
    cut = []
    for path in pages:
        image = Image.open(path)
        width, height = image.size
        for strip in ((0, 0, int(width * 0.06), height), (int(width * 0.94), 0, width, height)):
            if image.crop(strip).getextrema()[0] < 200:
                cut.append(path.name)
    assert cut == [], f"pages with ink in the outer margin: {cut}"
    log = (pdf_build.parent / "hotlines.log").read_text(encoding="utf-8", errors="replace")
    undefined = re.findall(r"LaTeX Warning: (?:Hyper )?(?:Reference|Citation) `([^']+)' on page", log)
    assert undefined == [] and "undefined references" not in log, undefined


def test_pdf_has_title_page_contents_lists_appendices_and_index(pdf_build):
    text = " ".join(subprocess.run(["pdftotext", str(pdf_build), "-"], capture_output=True, text=True, check=True).stdout.split())
    upper = text.upper()
    for heading in ("CONTENTS", "LIST OF FIGURES", "LIST OF TABLES", "SOLUTIONS TO THE EXERCISES", "TEACHING WITH THIS BOOK", "INDEX"):
        assert heading in upper, f"the PDF has no {heading}"
    lists = text[upper.index("LIST OF FIGURES"):upper.index("LIST OF TABLES")]
    assert "Coverage of the evidence base" in lists, "the list of figures is empty"
    index = text[text.index("12345 (Beijing hotline)"):]  # the index's first entry (its symbols group)
    for entry in ("jiesu jiban (接诉即办)", "Kaplan–Meier estimator", "Krippendorff's alpha"):
        assert entry in index, f"the index lacks {entry}"
    assert re.search(r"codes (leadership|institution|mechanism)\.\w+, \d+", index), "the index lists no code of the codebook"
