"""A Sphinx extension with what the hotlines book needs beyond MyST-NB.

- Print edition without bookkeeping code: cells tagged ``hide-input`` show a toggle in
  HTML; in the PDF their code is left out.
- Exercises and solutions (sphinx-exercise): in HTML each solution follows its exercise,
  hidden behind a toggle; in the PDF every solution is moved to the appendix that holds
  the ``{solutions-appendix}`` directive.
- ``hotlines_inputs_digest``: a config value Sphinx tracks, so a change of the package or
  the data makes it re-read (and re-execute) every chapter.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective


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
        from sphinx_exercise.nodes import solution_node

        places = list(self.document.findall(solutions_placeholder))
        if not places:
            return
        solutions = list(self.document.findall(solution_node))
        for solution in solutions:
            solution.parent.remove(solution)
        places[0].replace_self(solutions or [nodes.paragraph(text="This edition has no exercises.")])
        for extra in places[1:]:
            extra.parent.remove(extra)


def setup(app):
    app.add_config_value("hotlines_inputs_digest", "", "env")
    app.add_node(solutions_placeholder, html=(_skip, None), latex=(_skip, None), text=(_skip, None))
    app.add_directive("solutions-appendix", SolutionsAppendix)
    app.add_post_transform(DropHiddenInputsInPrint)
    app.add_post_transform(CollectSolutionsInPrint)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
