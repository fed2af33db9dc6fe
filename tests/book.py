"""Building the book from the tests: one HTML and one PDF build per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hotlines import paths

REPO = paths.REPO_ROOT
CHAPTERS = REPO / "chapters"
BUILD = REPO / "_build"


@dataclass
class Build:
    returncode: int
    output: str


def sphinx(*args: str, cwd: Path = REPO, timeout: int = 1800) -> Build:
    """Run sphinx-build with this interpreter; return its exit code and all it printed."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )
    return Build(proc.returncode, proc.stdout + proc.stderr)


def build_html(outdir: Path = BUILD / "html") -> Build:
    return sphinx("-W", "--keep-going", "-b", "html", str(CHAPTERS), str(outdir))


def build_pdf(builddir: Path = BUILD) -> Build:
    return sphinx("-M", "latexpdf", str(CHAPTERS), str(builddir), "-W", "--keep-going")


def chapter_docs() -> list[str]:
    return sorted(p.stem for p in CHAPTERS.glob("[0-9][0-9]-*.md"))


def chapter_title(doc: str) -> str:
    for line in (CHAPTERS / f"{doc}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise ValueError(f"{doc}.md has no title")
