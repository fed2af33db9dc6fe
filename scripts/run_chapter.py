"""Execute one chapter as a notebook, outside Sphinx, and say how long it took.

    .venv/bin/python scripts/run_chapter.py chapters/05-modes.md [--save OUT.ipynb]

For authors: a quick check that every cell (exercise solutions included) runs, and
that the chapter stays under the book's one-minute budget, without a book build.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--save", type=Path, help="write the executed notebook here")
    args = parser.parse_args()
    notebook = jupytext.read(args.chapter)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(args.chapter.resolve().parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"{args.chapter}: a cell raised\n{error}", file=sys.stderr)
        sys.exit(1)
    seconds = time.perf_counter() - start
    cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    print(f"{args.chapter}: {cells} code cells executed in {seconds:.1f} s")
    if args.save:
        import nbformat

        nbformat.write(notebook, args.save)


if __name__ == "__main__":
    main()
