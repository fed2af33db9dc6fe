"""One validation of the whole data folder: tables, codebook, coded corpus, index inputs.

``hotlines data validate`` runs this. It is also the one place that reads the seed
documents: every quote taken from a seed (indicator and city values, codebook anchors,
evidence passages, informant lines, index inputs and the index spec's locators) is
checked at its line, and when the seeds are absent the notes say so plainly.
"""

from __future__ import annotations

import os

from .validate import Problem, ValidationReport, validate


def validate_all(
    data_dir: str | os.PathLike | None = None,
    seeds: str | os.PathLike | None = None,
    check_seeds: bool = True,
) -> ValidationReport:
    """Every check of the data folder in one report (never raises on bad data)."""
    report = validate(data_dir, seeds=seeds, check_seeds=check_seeds)
    tables_ok = report.ok

    # The other pillars' checks read the tables through the loaders, which need valid tables.
    from ..coding.codebook import Codebook
    from ..coding.corpus import validate_corpus
    from ..index.inputs import validate_inputs
    from ..index.spec import check_spec_quotes, load_spec

    from .. import paths

    folder = paths.data_dir(data_dir)
    codebook_report = Codebook.load(folder / "codebook.yaml").validate(seeds=seeds, check_seeds=check_seeds)
    report.problems.extend(codebook_report)
    report.notes.extend(f"Codebook: {note}" for note in codebook_report.notes)
    if not tables_ok:
        report.notes.append("The coded corpus and the index inputs were not checked: they are read through the "
                            "tables, so fix the problems above first.")
        return report
    corpus = validate_corpus(folder, seeds=seeds, check_seeds=check_seeds)
    report.problems.extend(corpus.problems)
    report.notes.extend(f"Coded corpus: {note}" for note in corpus.notes)
    inputs = validate_inputs(folder / "index_4g_inputs.csv", seeds=seeds, check_seeds=check_seeds, data_dir=folder)
    report.problems.extend(inputs.problems)
    report.notes.extend(f"Index inputs: {note}" for note in inputs.notes)
    if check_seeds and paths.seeds_dir(seeds) is not None:
        spec_quotes = check_spec_quotes(load_spec(folder / "index_4g.yaml"), seeds=seeds)
        missing = spec_quotes[~spec_quotes["found"].astype(bool)]
        for _, row in missing.iterrows():
            report.problems.append(Problem("index_4g.yaml", None, str(row["where"]), "quote-in-seed",
                                           f"quote not found at {row['locator']}"))
        report.notes.append(f"Index spec: {len(spec_quotes)} quotes checked, {len(missing)} not found.")
    return report
