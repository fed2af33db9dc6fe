"""Add BibTeX entries of cited works to chapters/references.bib and, as kind 'paper', to data/sources.csv.

    .venv/bin/python scripts/add_references.py entries.bib

Every bibliography key is a row of sources.csv (the Sources appendix lists them all);
entries whose key exists already are skipped. Run `hotlines data hash` afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pybtex.database
from pybtex.style.formatting.plain import Style

REPO = Path(__file__).resolve().parents[1]


def main(path: str) -> None:
    bib_path, sources_path = REPO / "chapters" / "references.bib", REPO / "data" / "sources.csv"
    existing = set(pybtex.database.parse_file(bib_path).entries)
    new = pybtex.database.parse_file(path)
    sources = pd.read_csv(sources_path, dtype=str, keep_default_na=False)
    added = []
    for key, entry in new.entries.items():
        if key in existing or key in set(sources["source_id"]):
            print(f"skip {key}: already there")
            continue
        single = pybtex.database.BibliographyData({key: entry})
        with open(bib_path, "a", encoding="utf-8") as handle:
            handle.write("\n" + single.to_string("bibtex"))
        text = next(Style().format_entries(single.entries.values())).text.render_as("text")
        doi = entry.fields.get("doi", "")
        url = f"https://doi.org/{doi}" if doi else entry.fields.get("url", "")
        sources.loc[len(sources)] = {"source_id": key, "kind": "paper", "citation": text, "url": url,
                                     "seed_file": "", "accessed": "", "note": "Cited in the book; bibliographic details only."}
        added.append(key)
    sources.to_csv(sources_path, index=False, lineterminator="\n")
    print(f"added {len(added)}: {', '.join(added)}")


if __name__ == "__main__":
    main(sys.argv[1])
