"""Preview a new or edited chapter: build the book with it in a private temporary copy.

    .venv/bin/python scripts/preview_chapter.py chapters/05-modes.md [--pdf] [--out DIR]

The copy's index lists the chapters already in chapters/index.md plus this one (in
file-name order), so the chapter can be checked before it is added to the book.
The build is strict (-W): broken references or citations fail it. Execution uses a
private cache, so previews never disturb the repository's _build.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--pdf", action="store_true", help="also build the PDF")
    parser.add_argument("--out", type=Path, help="output folder (default /tmp/hotlines-preview/<chapter>)")
    args = parser.parse_args()

    chapter = args.chapter.resolve()
    out = (args.out or Path("/tmp/hotlines-preview") / chapter.stem).resolve()
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(REPO / "chapters", src, ignore=shutil.ignore_patterns("_build"))
    shutil.copy(chapter, src / chapter.name)

    index = (src / "index.md").read_text(encoding="utf-8")
    listed = re.findall(r"^(\d\d-[\w-]+)$", index, flags=re.MULTILINE)
    # other chapters still being written are not in the index: leave them out of the copy
    for other in src.glob("[0-9][0-9]-*.md"):
        if other.stem not in listed and other.stem != chapter.stem:
            other.unlink()
    if chapter.stem not in listed:
        numbered = [d for d in listed if d < "90"] + [chapter.stem]
        block = re.search(r"```\{toctree\}\n:caption: Chapters\n(?::[^\n]*\n)*\n((?:\d\d-[\w-]+\n)+)```", index)
        index = index.replace(block.group(1), "".join(f"{d}\n" for d in sorted(set(numbered))))
        (src / "index.md").write_text(index, encoding="utf-8")

    env = dict(os.environ, HOTLINES_NB_CACHE=str(out / "cache"), PYTHONHASHSEED="0")
    builds = [["-W", "--keep-going", "-b", "html", str(src), str(out / "html")]]
    if args.pdf:
        builds.append(["-M", "latexpdf", str(src), str(out), "-W", "--keep-going"])
    for build in builds:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sphinx", *build], env=env, capture_output=True, text=True)
        print(proc.stdout[-3000:] if proc.returncode else "", proc.stderr[-6000:], sep="\n")
        print(f"{build[2] if build[0] == '-W' else 'latexpdf'}: exit {proc.returncode} in {time.perf_counter() - start:.1f} s")
        if proc.returncode:
            sys.exit(proc.returncode)
    print(f"HTML: {out / 'html' / (chapter.stem + '.html')}")
    if args.pdf:
        print(f"PDF: {out / 'latex' / 'hotlines.pdf'}")


if __name__ == "__main__":
    main()
