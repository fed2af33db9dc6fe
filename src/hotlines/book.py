"""A Sphinx extension with what the hotlines book needs beyond MyST-NB.

- Print edition without bookkeeping code: cells tagged ``hide-input`` show a toggle in
  HTML; in the PDF their code is left out.
- Exercises and solutions (sphinx-exercise): in HTML each solution follows its exercise,
  hidden behind a toggle; in the PDF every solution is moved to the appendix that holds
  the ``{solutions-appendix}`` directive.
- Index of terms: ``hotlines_index_terms`` lists index entries with the phrases that
  mark them; each entry points at the first paragraph of each chapter that uses one of
  its phrases, so the index (HTML and PDF) is kept without markup in the chapters.
- Notebooks for download: every executed chapter is copied next to the page sources as
  ``_sources/<chapter>.ipynb`` and offered by the theme's download button (the theme does
  this only when launch buttons are configured, which needs a public repository address).
- ``hotlines_inputs_digest``: a config value Sphinx tracks, so a change of the package or
  the data makes it re-read (and re-execute) every chapter.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class DropHiddenInputsInPrint(SphinxPostTransform):
    """Cells tagged hide-input show a toggle in HTML; in the PDF their code is left out."""

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs):
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") == "cell_code" and cell.get("hide_mode") in ("input", "input+output"):
                for child in list(cell.children):
                    if child.get("nb_element") == "cell_code_source":
                        cell.remove(child)


class solutions_placeholder(nodes.General, nodes.Element):
    """Where the PDF collects the solutions of every exercise."""


def _skip(self, node):
    raise nodes.SkipNode


class SolutionsAppendix(SphinxDirective):
    """``{solutions-appendix}``: in the PDF, every exercise's solution is moved here."""

    def run(self):
        return [solutions_placeholder()]


class CollectSolutionsInPrint(SphinxPostTransform):
    """Move every solution of the assembled PDF document to the solutions appendix.

    The LaTeX builder assembles one document from all chapters before post-transforms
    run, so the solutions can be gathered in reading order.
    """

    default_priority = 198
    formats = ("latex",)

    def run(self, **kwargs):
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

        places = list(self.document.findall(solutions_placeholder))
        if not places:
            return
        solutions = list(self.document.findall(solution_node))
        # sphinx-exercise labels an exercise "exercise:<label>" in LaTeX
        exercises = {i for n in self.document.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node)))
                     for i in n["ids"]}
        for solution in solutions:
            # LaTeX qualifies a same-document reference with the document it is written in;
            # once moved, the solution is written in the appendix, so qualify it here.
            docname = self._docname(solution)
            for ref in solution.findall(nodes.reference):
                if ref.get("refid") and not ref.get("refuri"):
                    ref["refuri"] = f"%{docname}#{ref['refid']}"
                    del ref["refid"]
                target = ref.get("refuri", "").partition("#")[2]
                if ref.get("refuri", "").startswith("%") and target in exercises:
                    ref["refuri"] = f"%exercise#{target}"
            solution.parent.remove(solution)
        places[0].replace_self(solutions or [nodes.paragraph(text="This edition has no exercises.")])
        for extra in places[1:]:
            extra.parent.remove(extra)

    @staticmethod
    def _docname(node) -> str:
        """The chapter a node was written in (Sphinx marks each inlined document's sections with it)."""
        while node is not None and not node.get("docname"):
            node = node.parent
        if node is None:
            raise ValueError("a solution outside any document of the assembled book")
        return node["docname"]


class IndexTerms(SphinxTransform):
    """Index each configured term at the first paragraph of a document that uses it."""

    default_priority = 500

    def apply(self, **kwargs):
        terms = self.config.hotlines_index_terms
        if not terms or self.env.docname in self.config.hotlines_index_skip:
            return
        paragraphs = [(p, p.astext()) for p in self.document.findall(nodes.paragraph)]
        for entry, *phrases in terms:
            for paragraph, text in paragraphs:
                if any(phrase in text for phrase in phrases or [entry]):
                    target_id = f"index-{self.env.new_serialno('index')}"
                    index = addnodes.index(entries=[("single", entry, target_id, "", None)], inline=False)
                    paragraph.parent.insert(paragraph.parent.index(paragraph), [index, nodes.target("", "", ids=[target_id])])
                    break


def inputs_digest() -> str:
    """A digest of the package and the data that chapters and slides execute against.

    The execution cache keys on a notebook's code only; keying its folder on this
    digest as well means a change to src/hotlines or data/ re-executes the notebooks.
    """
    from hotlines import paths

    digest = hashlib.sha256()
    for root in (paths.REPO_ROOT / "src", paths.REPO_ROOT / "data"):
        for file in sorted(root.rglob("*")):
            # this module renders, it computes nothing a notebook shows
            if file.is_file() and "__pycache__" not in file.parts and file.name != "book.py":
                digest.update(str(file.relative_to(paths.REPO_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def execution_cache(cache_root: Path, digest: str) -> str:
    """The cache folder for this digest; the folders of earlier package or data versions are removed."""
    if cache_root.is_dir():
        for old in cache_root.iterdir():
            if old.is_dir() and old.name != digest:
                shutil.rmtree(old, ignore_errors=True)
    return str(cache_root / digest)


def offer_executed_notebook(app, pagename, templatename, context, doctree):
    """Write the page's executed notebook to ``_sources`` so the download button offers it.

    The notebook is the chapter with the outputs of the execution cache merged in. (MyST-NB's
    own copy in ``jupyter_execute`` carries no outputs when the cache supplied them.)
    """
    source = Path(app.env.doc2path(pagename))
    if app.builder.format != "html" or source.suffix != ".md":
        return
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    text = source.read_text(encoding="utf-8")
    reader = create_nb_reader(str(source), app.env.myst_config, app.env.mystnb_config, text)
    if reader is None:
        return
    notebook = reader.read(text)  # as MyST-NB read it, so the cache's hash matches
    if "kernelspec" not in notebook.metadata or not any(cell.cell_type == "code" for cell in notebook.cells):
        return
    try:
        _, notebook = get_cache(app.config.nb_execution_cache_path).merge_match_into_notebook(notebook)
    except KeyError:
        logger.warning(f"{pagename}: no executed notebook in the cache to offer for download")
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", offer_executed_notebook, priority=500)  # before the theme's buttons (501)
    app.add_config_value("hotlines_inputs_digest", "", "env")
    app.add_config_value("hotlines_index_terms", [], "env")
    app.add_config_value("hotlines_index_skip", [], "env")
    app.add_transform(IndexTerms)
    app.add_node(solutions_placeholder, html=(_skip, None), latex=(_skip, None), text=(_skip, None))
    app.add_directive("solutions-appendix", SolutionsAppendix)
    app.add_post_transform(DropHiddenInputsInPrint)
    app.add_post_transform(CollectSolutionsInPrint)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
