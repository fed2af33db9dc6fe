"""Exercises and their solutions: every chapter has them, every solution ran, teachers can hide them."""

from __future__ import annotations

import re

import nbformat
import pytest

from .book import CHAPTERS

NUMBERED = sorted(p.stem for p in CHAPTERS.glob("[01][0-9]-*.md") if p.stem != "00-preface")
EXERCISE = re.compile(r"^:::\{exercise\} (?P<title>.+)\n:label: (?P<label>ex-[a-z-]+-\d+)$", re.M)
GATED = re.compile(r"^````\{solution-start\} (?P<label>ex-[a-z-]+-\d+)\n(?P<body>.*?)^````\{solution-end\}", re.M | re.S)
PLAIN = re.compile(r"^:::\{solution\} (?P<label>ex-[a-z-]+-\d+)\n(?P<body>.*?)^:::$", re.M | re.S)


def exercises(doc: str) -> tuple[list[re.Match], dict[str, str]]:
    text = (CHAPTERS / f"{doc}.md").read_text(encoding="utf-8")
    solutions = {m["label"]: m["body"] for m in [*GATED.finditer(text), *PLAIN.finditer(text)]}
    return list(EXERCISE.finditer(text)), solutions


@pytest.mark.parametrize("doc", NUMBERED)
def test_each_chapter_ends_with_graded_exercises_each_with_a_solution(doc):
    found, solutions = exercises(doc)
    stem = doc.split("-", 1)[1]
    assert len(found) >= 3, f"{doc}: {len(found)} exercises, want at least 3"
    labels = [m["label"] for m in found]
    assert labels == [f"ex-{stem}-{n}" for n in range(1, len(found) + 1)], f"{doc}: labels {labels}"
    assert set(labels) == set(solutions), f"{doc}: exercises without a solution: {set(labels) - set(solutions)}"
    levels = [m["title"].split(":")[0] for m in found]
    assert levels[0] == "Guided" and levels[-1] == "Open question", f"{doc}: levels {levels}"
    assert set(levels) <= {"Guided", "Intermediate", "Open question"}, f"{doc}: levels {levels}"
    assert "What a good answer does" in solutions[labels[-1]], f"{doc}: the open question has no grading guide"
    assert "```{code-cell}" in solutions[labels[0]], f"{doc}: the guided solution has no code"
    for label, body in solutions.items():
        assert ":class: dropdown" in body.split("\n", 2)[0] + body.split("\n", 2)[1], f"{label}: solution not hidden"


@pytest.mark.parametrize("doc", NUMBERED)
def test_every_solution_cell_was_executed_without_error(doc, html_build):
    """The book build executes the chapters, solutions included; their outputs are in the executed notebook."""
    _, solutions = exercises(doc)
    notebook = nbformat.read(html_build / "_sources" / f"{doc}.ipynb", as_version=4)
    sources = {cell.source.strip(): cell for cell in notebook.cells if cell.cell_type == "code"}
    for label, body in solutions.items():
        for code in re.findall(r"```\{code-cell\} ipython3\n(.*?)^```", body, re.M | re.S):
            cell = sources.get(code.strip())
            assert cell is not None, f"{label}: a solution cell is missing from the executed notebook"
            assert cell.execution_count is not None, f"{label}: a solution cell was not executed"
            assert not [o for o in cell.outputs if o.output_type == "error"], f"{label}: a solution cell raised"


def test_solutions_are_hidden_in_html_and_collected_in_the_pdf(html_build, pdf_build):
    import subprocess

    page = (html_build / "05-modes.html").read_text(encoding="utf-8")
    assert re.search(r'class="[^"]*solution[^"]*dropdown', page), "the HTML solutions are not dropdowns"
    text = " ".join(subprocess.run(["pdftotext", str(pdf_build), "-"], capture_output=True, text=True, check=True).stdout.split())
    appendix = text.index("Every chapter ends with exercises graded")  # the appendix's first words
    solutions = [m.start() for m in re.finditer(r"Solution to Exercise", text)]
    exercises_found = sum(len(exercises(doc)[0]) for doc in NUMBERED)
    assert len(solutions) == exercises_found, f"{len(solutions)} solutions in the PDF, {exercises_found} exercises"
    assert min(solutions) > appendix, "a solution is printed inside a chapter, not in the appendix"
