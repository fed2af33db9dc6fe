"""Sphinx + MyST-NB configuration of the hotlines book (HTML and PDF)."""

from __future__ import annotations

import os
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
sys.path.insert(0, str(HERE.parent / "src"))

from hotlines.book import execution_cache, inputs_digest  # noqa: E402

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


# The execution cache keys on a notebook's code; its folder is keyed on a digest of
# src/hotlines and data/ as well, so a change of either re-executes every chapter.
# HOTLINES_NB_CACHE lets concurrent builds (previews, benchmarks) keep private caches.
hotlines_inputs_digest = inputs_digest()
nb_execution_cache_path = execution_cache(
    Path(os.environ.get("HOTLINES_NB_CACHE") or HERE.parent / "_build" / ".jupyter_cache"), hotlines_inputs_digest
)
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

# --- index of terms: Chinese terms sort by their pinyin (hotlines.book indexes each entry at the first paragraph of a chapter using one of its phrases)
hotlines_index_skip = ["index", "90-sources", "91-teaching", "95-solutions", "99-references"]
hotlines_index_terms = [
    ["12345 (Beijing hotline)", "12345"],
    ["311 (New York hotline)", "311"],
    ["jiesu jiban (接诉即办)", "接诉即办"],
    ["chuishao baodao (吹哨报到, whistle-blowing and reporting in)", "吹哨报到"],
    ["shoujie fuze (首接负责)", "首接负责"],
    ["4G index", "4G index", "Hotline 4G"],
    ["leadership–institution–mechanism framework", "leadership–institution–mechanism"],
    ["vertical mode of collaboration", "vertical mode", "vertical city", "vertical cities"],
    ["horizontal mode of collaboration", "horizontal mode", "horizontal city", "horizontal cities"],
    ["service-level agreement", "service-level agreement", "SLA"],
    ["codebook", "codebook"],
    ["Krippendorff's alpha", "Krippendorff's"],
    ["Cohen's kappa", "Cohen's"],
    ["Fleiss' kappa", "Fleiss"],
    ["REFI-QDA", "REFI-QDA"],
    ["centralization (Freeman)", "centralization", "Freeman"],
    ["Krackhardt hierarchy", "Krackhardt"],
    ["E–I index", "E–I index"],
    ["GraphML", "GraphML"],
    ["discrete-event simulation", "discrete-event", "simpy"],
    ["censoring", "censoring", "censored"],
    ["Kaplan–Meier estimator", "Kaplan–Meier"],
    ["log-rank test", "log-rank"],
    ["Cox proportional hazards model", "Cox "],
    ["accelerated failure time model", "accelerated failure"],
    ["quarantine (request validation)", "quarantine"],
    ["DuckDB", "DuckDB"],
    ["Apache Spark", "Spark"],
    ["min–max normalisation", "min–max"],
    ["Sobol indices", "Sobol"],
    ["adjusted Rand index", "adjusted Rand"],
    ["permutation test", "permutation test"],
    ["bootstrap", "bootstrap"],
    ["Spearman rank correlation", "Spearman"],
]
# every code of the codebook, under "codes", where a chapter names it
from hotlines.coding.codebook import Codebook  # noqa: E402

hotlines_index_terms += [[f"codes; {code}", code] for code in Codebook.load().to_frame()["code"]]

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
# Launch buttons need the public address of the repository, which a copy of this book
# may not have: set HOTLINES_REPOSITORY_URL (and HOTLINES_JUPYTERHUB_URL for a campus
# JupyterHub) when building the published edition. Binder builds the environment from
# binder/requirements.txt and opens the MyST chapters as notebooks through jupytext.
# Every chapter is downloadable as an executed .ipynb either way (hotlines.book).
_repository_url = os.environ.get("HOTLINES_REPOSITORY_URL", "")
html_theme_options = {
    "repository_url": _repository_url,
    "repository_branch": os.environ.get("HOTLINES_REPOSITORY_BRANCH", "main"),
    "path_to_docs": "chapters",
    "use_download_button": True,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
if _repository_url:
    html_theme_options["launch_buttons"] = {
        "binderhub_url": "https://mybinder.org",
        "jupyterhub_url": os.environ.get("HOTLINES_JUPYTERHUB_URL", ""),
        "notebook_interface": "jupyterlab",
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
    # Contents (chapters and sections), then lists of figures and tables. Sphinx names the
    # contents after the first toctree's caption and sets its depth from that toctree.
    "tableofcontents": r"\renewcommand{\contentsname}{Contents}\setcounter{tocdepth}{1}"
    r"\sphinxtableofcontents\listoffigures\clearpage\listoftables\clearpage",
    "printindex": r"\footnotesize\raggedright\printindex",
}
latex_use_xindy = False
