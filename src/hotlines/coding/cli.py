"""``hotlines code``: validate, query, measure reliability, score city modes, exchange with QDA tools."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import refi

app = typer.Typer(help="The coded evidence: codebook, corpus, queries, reliability, city modes, REFI-QDA.",
                  no_args_is_help=True)
app.command("export")(refi.export_command)
app.command("import")(refi.import_command)

from hotlines.console import console, errors


def _write_or_print(frame, out: Optional[Path]) -> None:
    if out:
        frame.to_csv(out, index=False)
        console.print(f"wrote {len(frame)} rows to {out}")
    else:
        console.print(frame.to_string(index=False))


@app.command("validate")
def validate_command(
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="Folder of the seed documents (default: ../shared/seeds)."),
) -> None:
    """Check the codebook (ids, hierarchy, poles, anchors) and the corpus (cities, informants, verbatim passages)."""
    from .codebook import Codebook
    from .corpus import validate_corpus

    codebook = Codebook.load()
    checked = codebook.validate(seeds=seeds)
    problems = list(checked)
    for note in checked.notes:
        console.print(note)
    report = validate_corpus(seeds=seeds)
    problems += report.problems
    for note in report.notes:
        console.print(note)
    if problems:
        for problem in problems:
            errors.print(str(problem))
        raise typer.Exit(1)
    console.print(f"[green]valid[/green]: codebook {codebook.version} ({len(codebook.codes)} codes) and the coded corpus")


@app.command("query")
def query_command(
    by: str = typer.Option("city", help="city, source or role: count codes by this."),
    expression: Optional[str] = typer.Option(None, "--where", help="Boolean expression over codes, e.g. 'A AND NOT B'; lists matching segments."),
    city: Optional[str] = typer.Option(None, help="Only segments naming this city (with --where)."),
    coder: Optional[list[str]] = typer.Option(None, help="Coder(s) to read (default: all)."),
    rule: str = typer.Option("union", help="union, majority or consensus of the selected coders."),
    out: Optional[Path] = typer.Option(None, help="Write the table as CSV instead of printing it."),
) -> None:
    """Counts of codes by city, source or informant role; or retrieval of segments by an expression."""
    from . import corpus, queries
    from .codebook import Codebook

    codebook, segments, codings = Codebook.load(), corpus.segments(), corpus.codings()
    try:
        if expression:
            table = queries.retrieve(segments, codings, expression, city=city, codebook=codebook, coders=coder, rule=rule)
        elif by == "city":
            table = queries.code_by_city(segments, codings, coders=coder, rule=rule, codebook=codebook)
        elif by == "source":
            table = queries.code_by_source(segments, codings, coders=coder, rule=rule, codebook=codebook)
        elif by == "role":
            table = queries.code_by_role(segments, codings, corpus.interviews(), coders=coder, rule=rule, codebook=codebook)
        else:
            raise typer.BadParameter("--by must be city, source or role")
    except (ValueError, queries.ExpressionError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    _write_or_print(table, out)


@app.command("reliability")
def reliability_command(
    coder: Optional[list[str]] = typer.Option(None, help="Coders to compare (default: the independent passes)."),
    unit: str = typer.Option("presence", help="presence (per code), pole (per dimension) or code_set."),
    n_boot: int = typer.Option(1000, help="Bootstrap replications for the confidence intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap (results are reproducible bit for bit)."),
    out: Optional[Path] = typer.Option(None, help="Write the table as CSV."),
) -> None:
    """Krippendorff's alpha, Cohen's and Fleiss' kappa and percent agreement, with bootstrap intervals."""
    from . import corpus, reliability
    from .codebook import Codebook

    codings = corpus.codings()
    selected = coder or _independent_passes(corpus.coders())
    table = reliability.reliability(codings, Codebook.load(), coders=selected, variable=unit, n_boot=n_boot, seed=seed)
    _write_or_print(table, out)


@app.command("modes")
def modes_command(
    coder: Optional[list[str]] = typer.Option(None, help="Coder(s) whose codes are scored (default: the reconciled coding)."),
    rule: str = typer.Option("union", help="union, majority or consensus of the selected coders."),
    without_multi_city: bool = typer.Option(False, help="Leave multi-city statements out."),
    out: Optional[Path] = typer.Option(None, help="Write the table as CSV."),
) -> None:
    """Score every city vertical / mixed / horizontal on leadership, institution and mechanism."""
    from .. import data
    from . import corpus
    from .codebook import Codebook
    from .modes import ModeRule, city_modes

    coders_table = corpus.coders()
    selected = coder or _reconciled(coders_table)
    table = city_modes(Codebook.load(), corpus.segments(), corpus.codings(), data.cities()["city_id"],
                       coders=selected, rule=rule, mode_rule=ModeRule(include_multi_city=not without_multi_city))
    _write_or_print(table, out)


def _independent_passes(coders_table) -> list[str]:
    independent = coders_table.loc[coders_table["procedure"].str.contains("independent", case=False, na=False), "coder"]
    if len(independent) < 2:
        raise typer.BadParameter("name the coders to compare with --coder (two independent passes were not found)")
    return independent.tolist()


def _reconciled(coders_table) -> list[str]:
    reconciled = coders_table.loc[coders_table["procedure"].str.contains("reconcil", case=False, na=False), "coder"]
    return reconciled.tolist() or coders_table["coder"].tolist()
