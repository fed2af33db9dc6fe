"""Sphinx configuration of the teaching slides: reveal.js decks built by sphinx-revealjs.

Build: ``sphinx-build -W --keep-going -b revealjs slides _build/slides``. Each deck is a
MyST notebook that calls the same package functions as the book's chapters; nothing is
saved into the repository, and the built decks load nothing from outside the build
(reveal.js, its theme fonts and MathJax are served from ``_static``).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# As in chapters/conf.py: the venv's kernel, and the package from the clone.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in (str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")) if p
)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
sys.path.insert(0, str(REPO / "src"))

from hotlines.book import execution_cache, inputs_digest  # noqa: E402

project = "hotlines: teaching slides"
author = "The hotlines developers"
copyright = "2026, the hotlines developers. Text CC BY 4.0, code MIT"
release = "0.1.0"

extensions = ["sphinx_revealjs", "myst_nb"]
exclude_patterns = ["_build", "conf.py", "README.md", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# --- MyST and notebook execution
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "substitution"]
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_show_tb = True
nb_render_markdown_format = "myst"
nb_merge_streams = True
# MyST-NB knows the mime priorities of the standard builders only; the revealjs builder
# writes HTML, so it gets the HTML order, with SVG figures first (sharp at any zoom).
nb_mime_priority_overrides = [
    ("revealjs", mime, priority)
    for priority, mime in enumerate(
        ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/plain"], start=1
    )
]


# As in the book: the cache folder is keyed on the package and data digest (a config
# value, see setup, so a new digest re-reads every deck); the decks keep a cache of their own.
hotlines_inputs_digest = inputs_digest()
nb_execution_cache_path = execution_cache(
    Path(os.environ.get("HOTLINES_SLIDES_CACHE") or REPO / "_build" / "slides-cache"), hotlines_inputs_digest
)

numfig = False  # a slide shows one figure; "Figure 3" would point nowhere

# --- reveal.js: everything from the build's own _static
revealjs_html_theme = "revealjs-simple"
# white.css imports only its bundled Source Sans Pro; several other bundled themes
# (simple, sky, night, ...) import Google Fonts.
revealjs_style_theme = "white"
revealjs_static_path = ["_static"]
revealjs_css_files = ["hotlines-slides.css"]
revealjs_script_conf = {
    "width": 1280,
    "height": 720,
    "margin": 0.04,
    "hash": True,
    "slideNumber": "c/t",
    "transition": "none",  # screenshots and readers with reduced motion get the final slide at once
    "center": False,
}
revealjs_script_plugins = [
    {"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"},
]
html_favicon = str(REPO / "chapters" / "_static" / "favicon.svg")
html_title = "hotlines slides"

# Math, if a deck ever needs it, from the local MathJax of sphinx-mathjax-offline, as in the book.
_mathjax = Path(sysconfig.get_paths()["purelib"]) / "sphinx-mathjax-offline" / "static"
if _mathjax.is_dir():
    revealjs_static_path.append(str(_mathjax))
    mathjax_path = "mathjax/tex-chtml.js"


def setup(app):
    # Sphinx re-reads (and so re-executes) every deck when an "env" config value changes.
    app.add_config_value("hotlines_inputs_digest", "", "env")
