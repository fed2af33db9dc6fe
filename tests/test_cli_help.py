"""The `hotlines` command: every group and command explains itself the same way."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from hotlines.cli import app

runner = CliRunner()


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):  # a group (typer ships its own click)
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_has_help_and_every_option_is_described():
    root = typer.main.get_command(app)
    commands = list(_walk(root))
    assert len(commands) > 20
    for path, command in commands:
        summary = (command.help or "").strip()
        assert summary, f"hotlines {' '.join(path)} has no help text"
        assert summary[0].isupper() or summary[0].isdigit() or path == (), f"hotlines {' '.join(path)}: {summary[:40]!r}"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"hotlines {' '.join(path)} {param.opts[0]} has no help"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (path, result.output[-300:])
