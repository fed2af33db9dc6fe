"""Sphinx + MyST-NB configuration of the hotlines book (HTML and PDF)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Execute chapters with this environment's kernel: a user-level "python3" kernelspec
# (~/.local/share/jupyter/kernels) would otherwise take precedence over the venv's.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in (str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")) if p
)
# Chapters import the package from the clone even when it is not installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")) if p
)
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

project = "hotlines: collaboration and responsiveness in city service hotlines"
author = "The hotlines developers"
copyright = "2026, the hotlines developers. Text CC BY 4.0, code MIT"
release = "0.1.0"

extensions = [
    "myst_nb",
    "sphinxcontrib.bibtex",
    "sphinx_design",
    "sphinx_copybutton",
    "sphinx_togglebutton",
    "sphinx_exercise",
    "hotlines.book",  # print edition, solutions appendix, inputs digest (src/hotlines/book.py)
]

exclude_patterns = ["_build", "conf.py", "**.ipynb_checkpoints", "README.md", "LICENSE.md", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# --- MyST and notebook execution
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath", "deflist", "substitution"]
myst_heading_anchors = 3
nb_execution_mode = "cache"


def _inputs_digest() -> str:
    """A digest of the package and the data the chapters execute against.

    The execution cache keys on a notebook's code only; keying its folder on this
    digest as well means a change to src/hotlines or data/ re-executes the chapters.
    """
    try:
        from hotlines import paths
    except ImportError:
        return "no-package"
    digest = hashlib.sha256()
    for root in (paths.REPO_ROOT / "src", paths.REPO_ROOT / "data"):
        for file in sorted(root.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(paths.REPO_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


hotlines_inputs_digest = _inputs_digest()
# HOTLINES_NB_CACHE lets concurrent builds (previews, benchmarks) keep private caches.
_cache_root = Path(os.environ.get("HOTLINES_NB_CACHE") or HERE.parent / "_build" / ".jupyter_cache")
nb_execution_cache_path = str(_cache_root / hotlines_inputs_digest)
if _cache_root.is_dir():  # caches of earlier package or data versions
    for old in _cache_root.iterdir():
        if old.is_dir() and old.name != hotlines_inputs_digest:
            shutil.rmtree(old, ignore_errors=True)
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_show_tb = True
nb_render_markdown_format = "myst"
nb_merge_streams = True
nb_mime_priority_overrides = [
    ("latex", "application/pdf", 5),
    ("latex", "image/png", 10),
    ("html", "image/svg+xml", 5),
    ("html", "image/png", 10),
]

# --- cross-references and citations
numfig = True
numfig_secnum_depth = 1
numfig_format = {"figure": "Figure %s", "table": "Table %s", "code-block": "Listing %s", "section": "Section %s"}
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"
nitpicky = False

# --- HTML: nothing loaded from outside the build
html_theme = "sphinx_book_theme"
html_title = "hotlines"
html_static_path = ["_static"]
html_css_files = ["hotlines.css"]
html_favicon = "_static/favicon.svg"
html_theme_options = {
    "repository_url": "",
    "use_download_button": True,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
# Light or dark as the reader's system prefers (an unset mode logs a console error in the browser).
html_context = {"default_mode": "auto"}
html_last_updated_fmt = ""
_mathjax = Path(sysconfig.get_paths()["purelib"]) / "sphinx-mathjax-offline" / "static"
if _mathjax.is_dir():
    html_static_path.append(str(_mathjax))
    mathjax_path = "mathjax/tex-chtml.js"

# --- PDF: xelatex, with a CJK font for the Chinese terms the book quotes
latex_engine = "xelatex"
latex_documents = [(root_doc, "hotlines.tex", "Collaboration and Responsiveness in City Service Hotlines", author, "manual", False)]
latex_show_urls = "no"
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    "preamble": r"""
\usepackage{xeCJK}
\setCJKmainfont{Noto Serif CJK SC}
\setCJKsansfont{Noto Sans CJK SC}
\setCJKmonofont{Noto Sans Mono CJK SC}
% Curly quotes, dashes and ellipsis are Western punctuation in English text: without this,
% xeCJK sets them full-width from the CJK font ("New York’ s").
\xeCJKDeclareCharClass{Default}{"2014, "2018, "2019, "201C, "201D, "2026}
\usepackage{xurl}
% Tables hold many columns of short text: a smaller font keeps them inside the margins.
\AtBeginEnvironment{longtable}{\footnotesize}
\AtBeginEnvironment{tabulary}{\footnotesize}
""",
    "figure_align": "htbp",
    "printindex": "",
}
latex_use_xindy = False
