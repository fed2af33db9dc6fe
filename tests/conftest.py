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
