from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Commands print through rich, which sizes tables to the terminal; the tests read
# that output, so they fix the width instead of inheriting whatever runs them.
os.environ["COLUMNS"] = "160"

from hotlines import paths  # noqa: E402

from .book import BUILD, build_html, build_pdf

REPO = paths.REPO_ROOT
DATA = REPO / "data"
SEEDS = paths.seeds_dir()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of data/ that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, to show that nothing was rewritten."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="session")
def html_build():
    result = build_html()
    assert result.returncode == 0, result.output[-6000:]
    return BUILD / "html"


@pytest.fixture(scope="session")
def pdf_build(html_build):  # after the HTML build, so the PDF reuses the execution cache
    result = build_pdf()
    assert result.returncode == 0, result.output[-6000:]
    pdf = BUILD / "latex" / "hotlines.pdf"
    assert pdf.is_file()
    return pdf


def write_seeds(folder: Path, entries) -> Path:
    """Seed files holding exactly the given texts at the given lines, for tests of the quote checks.

    ``entries`` are ``(file, first_line, last_line, text)``; a text is written on its first
    line (texts sharing a line are joined), and the file reaches ``last_line``. The real
    seeds are read by one test only (tests/test_data.py); the rules that catch a moved or
    changed quote are tested on these files, which hold the repository's own quotes.
    """
    lines: dict[str, dict[int, list[str]]] = {}
    for name, first, last, text in entries:
        lines.setdefault(name, {}).setdefault(int(first), []).append(str(text))
        lines[name].setdefault(int(last), [])
    folder.mkdir(parents=True, exist_ok=True)
    for name, by_line in lines.items():
        body = [" ".join(by_line.get(number, [])) for number in range(1, max(by_line) + 1)]
        (folder / name).write_text("\n".join(body) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def corpus_seeds(tmp_path: Path) -> Path:
    """Seeds with every anchor, passage and informant line of the shipped coded corpus."""
    import pandas as pd

    from hotlines.coding.codebook import Codebook

    book = Codebook.load(DATA / "codebook.yaml")
    entries = [(a.source, a.line, a.last_line, a.quote) for code in book.codes.values() for a in code.anchors]
    segments = pd.read_csv(DATA / "segments.csv", dtype=str, keep_default_na=False)
    entries += [(r.source, r.line, r.line_end, r.passage) for r in segments.itertuples()]
    interviews = pd.read_csv(DATA / "interviews.csv", dtype=str, keep_default_na=False)
    entries += [(r.source, r.line, r.line, f"{r.informant_id} {r.role}") for r in interviews.itertuples()]
    return write_seeds(tmp_path / "seeds", entries)
