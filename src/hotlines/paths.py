"""Where the project's files live.

The data, the chapters and the figures live in the repository, not inside the
installed package: the package is installed in editable mode from a clone. A
different data folder can be named with the ``HOTLINES_DATA`` environment variable
or the ``data_dir`` argument of every loader.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The folder holding ``datapackage.json``.

    Looks at ``override``, then ``$HOTLINES_DATA``, then ``<repository>/data``.
    """
    candidates = [override, os.environ.get("HOTLINES_DATA"), REPO_ROOT / "data"]
    for candidate in candidates:
        if candidate:
            path = Path(candidate).expanduser().resolve()
            if (path / "datapackage.json").is_file():
                return path
            if candidate is override:
                raise FileNotFoundError(f"{path}: no datapackage.json in this folder")
    raise FileNotFoundError(
        "the hotlines data folder was not found: set HOTLINES_DATA to the folder "
        "that holds datapackage.json (it is data/ in a clone of the repository)"
    )


def seeds_dir(override: str | os.PathLike | None = None) -> Path | None:
    """The folder of the five seed documents, or None when it is absent.

    The seeds are reference material beside the repository (``../shared/seeds``), not
    part of it; the one check that reads them says so when they are missing. A folder
    given explicitly is used alone: a wrong path is reported, never replaced by another.
    """
    if override:
        path = Path(override).expanduser()
        return path.resolve() if path.is_dir() else None
    for candidate in (os.environ.get("HOTLINES_SEEDS"), REPO_ROOT.parent / "shared" / "seeds"):
        if candidate and Path(candidate).expanduser().is_dir():
            return Path(candidate).expanduser().resolve()
    return None


def seeds_search_paths(override: str | os.PathLike | None = None) -> list[str]:
    """The places :func:`seeds_dir` looks, for messages."""
    places = [override] if override else [os.environ.get("HOTLINES_SEEDS"), REPO_ROOT.parent / "shared" / "seeds"]
    return [str(Path(p).expanduser()) for p in places if p]


def figures_dir() -> Path:
    """The folder the book build exports figures to (SVG and PNG)."""
    path = REPO_ROOT / "figures"
    path.mkdir(exist_ok=True)
    return path


def bibliography_path() -> Path:
    return REPO_ROOT / "chapters" / "references.bib"
