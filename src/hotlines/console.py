"""The two consoles every ``hotlines`` command prints through.

Messages are soft-wrapped: a long path or a quoted value is never broken by an
inserted newline, so what the command prints can be copied and searched as is.
"""

from __future__ import annotations

from rich.console import Console

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
