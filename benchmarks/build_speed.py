"""Build speed of the book: a cold build against cached rebuilds, side by side in one run.

    python benchmarks/build_speed.py [--pdf]

Works on a copy of chapters/ in a temporary folder, so the repository's _build is
untouched. Prints wall-clock seconds and the ratio of each build to the cold one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sphinx(*args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", *args], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONHASHSEED="0"))
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", action="store_true", help="also time the PDF (LaTeX) build")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hotlines-bench-") as tmp:
        src = Path(tmp) / "chapters"
        shutil.copytree(REPO / "chapters", src, ignore=shutil.ignore_patterns("_build"))
        out = Path(tmp) / "_build"
        html = lambda: sphinx("-W", "--keep-going", "-q", "-b", "html", str(src), str(out / "html"))

        rows = [("cold HTML build (executes every chapter)", html())]
        rows.append(("cached rebuild, nothing changed", html()))
        chapter = src / "02-evidence-base.md"  # the chapter with the most computation
        chapter.write_text(chapter.read_text(encoding="utf-8") + "\n\nEdited by the benchmark.\n", encoding="utf-8")
        rows.append((f"rebuild after a prose edit of {chapter.name}", html()))
        if args.pdf:
            rows.append(("PDF build after HTML (cache reused)",
                         sphinx("-M", "latexpdf", str(src), str(out), "-W", "--keep-going", "-q")))

    cold = rows[0][1]
    width = max(len(name) for name, _ in rows)
    print(f"{'build'.ljust(width)}  seconds  ratio to cold")
    for name, seconds in rows:
        print(f"{name.ljust(width)}  {seconds:7.1f}  {seconds / cold:6.2f}")
    print(f"cold / cached = {cold / rows[1][1]:.1f}x  (machine: {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
