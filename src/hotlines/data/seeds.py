"""The seed documents, read once and addressed by file name and line numbers.

Every check that a quote stands in its seed at the line its locator names (data,
codebook anchors, coded passages, index inputs) reads the seeds through ``SeedText``.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path

def collapse_whitespace(text: str) -> str:
    """Every run of whitespace as one space, no leading or trailing space."""
    return " ".join(str(text).split())


class SeedText:
    """The seed documents of a folder, read once, addressed by file name and line numbers.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "seed.txt").write_text("a line that\\n\\n  wraps after a page break\\n", encoding="utf-8")
    >>> SeedText(folder).contains("seed.txt", 1, 3, "that wraps after")
    True
    >>> SeedText(folder).locate("seed.txt", "that wraps")
    [(1, 3)]
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._lines: dict[str, list[str]] = {}

    def lines(self, name: str) -> list[str] | None:
        """The file's lines, or None when the folder has no such file."""
        if name not in self._lines:
            path = self.folder / name
            if not path.is_file():
                return None
            self._lines[name] = path.read_text(encoding="utf-8").splitlines()
        return self._lines[name]

    def span(self, name: str, first: int, last: int | None = None) -> str | None:
        """Lines ``first``..``last`` (1-based, inclusive) joined and whitespace-collapsed; None if out of range."""
        lines = self.lines(name)
        last = first if last is None else last
        if lines is None or not (1 <= first <= last <= len(lines)):
            return None
        return collapse_whitespace(" ".join(lines[first - 1:last]))

    def contains(self, name: str, first: int, last: int | None, quote: str) -> bool:
        text = self.span(name, first, last)
        return text is not None and collapse_whitespace(quote) in text

    def locate(self, name: str, quote: str) -> list[tuple[int, int]]:
        """Every (first, last) line span of the file where ``quote`` occurs, smallest span per occurrence."""
        starts, owners, pieces = [], [], []
        offset = 0
        for number, line in enumerate(self.lines(name) or [], start=1):
            piece = collapse_whitespace(line)
            if not piece:
                continue
            if pieces:
                offset += 1  # the space that joins two lines
            starts.append(offset)
            owners.append(number)
            pieces.append(piece)
            offset += len(piece)
        text, target = " ".join(pieces), collapse_whitespace(quote)
        spans = []
        at = text.find(target) if target else -1
        while at != -1:
            first = owners[bisect.bisect_right(starts, at) - 1]
            last = owners[bisect.bisect_right(starts, at + len(target) - 1) - 1]
            spans.append((first, last))
            at = text.find(target, at + 1)
        return spans
