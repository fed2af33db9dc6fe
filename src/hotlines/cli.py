"""The ``hotlines`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

app = typer.Typer(help="hotlines: a research toolkit for city citizen-service hotlines.", no_args_is_help=True)
data_app = typer.Typer(help="The evidence base in data/: validate it, record its hashes.", no_args_is_help=True)
app.add_typer(data_app, name="data")

from .coding.cli import app as code_app  # noqa: E402
from .index.cli import app as index_app  # noqa: E402
from .networks.cli import app as networks_app  # noqa: E402
from .requests.cli import app as requests_app  # noqa: E402
from .requests.survival_cli import survival as survival_command  # noqa: E402

app.add_typer(code_app, name="code")
app.add_typer(networks_app, name="networks")
requests_app.command("survival")(survival_command)
app.add_typer(requests_app, name="requests")
app.add_typer(index_app, name="index")

from hotlines.console import console, errors  # noqa: E402


@data_app.command("validate")
def data_validate(
    data_dir: Optional[Path] = typer.Option(None, "--data", help="Data folder (default: data/ of the repository or $HOTLINES_DATA)."),
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="Folder of the seed documents (default: $HOTLINES_SEEDS or ../shared/seeds)."),
    no_seeds: bool = typer.Option(False, "--no-seeds", help="Do not check quotes against the seed documents."),
) -> None:
    """Check the whole data folder: schemas, keys, hashes, sources, codebook, coded corpus, index inputs, and
    every seed quote at its line. Exits 1 on any problem; never rewrites a file."""
    from .data import validate_all

    try:
        report = validate_all(data_dir, seeds=seeds, check_seeds=not no_seeds)
    except FileNotFoundError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    for note in report.notes:
        console.print(note)
    if report.ok:
        console.print(f"[green]valid[/green]: {report.data_dir}")
        return
    table = Table(title=f"{len(report.problems)} problem(s) in {report.data_dir}", show_lines=False)
    for column in ("file", "row", "key", "field", "rule", "message"):
        table.add_column(column, overflow="fold")
    for p in report.problems:
        table.add_row(p.file, "" if p.row is None else str(p.row), p.key or "", p.field or "", p.rule, p.message)
    errors.print(table)
    raise typer.Exit(1)


@data_app.command("hash")
def data_hash(
    data_dir: Optional[Path] = typer.Option(None, "--data", help="Data folder."),
) -> None:
    """Record the sha256 and size of every data file in datapackage.json (after a deliberate edit)."""
    from .data import rehash

    changed = rehash(data_dir)
    for name, old, new in changed:
        console.print(f"{name}: {old or '(none)'} -> {new}")
    if not changed:
        console.print("all hashes were current")


if __name__ == "__main__":
    app()
