"""The data package: its descriptor, typed loading and file hashes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from .. import paths

DESCRIPTOR = "datapackage.json"


def read_descriptor(data_dir: str | os.PathLike | None = None) -> dict:
    """The parsed ``datapackage.json`` of the data folder."""
    folder = paths.data_dir(data_dir)
    with open(folder / DESCRIPTOR, encoding="utf-8") as handle:
        return json.load(handle)


def resource(descriptor: dict, name: str) -> dict:
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in descriptor["resources"])
    raise KeyError(f"{DESCRIPTOR}: no resource named {name!r} (known: {known})")


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_PANDAS_TYPES = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}


def read_table(path: str | os.PathLike, schema: dict) -> pd.DataFrame:
    """Read a CSV as the schema types it: empty cells are missing, never zero or ''."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    for field in schema["fields"]:
        name, kind = field["name"], field.get("type", "string")
        if name not in frame.columns:
            continue
        if kind in ("integer", "number"):
            frame[name] = pd.to_numeric(frame[name]).astype(_PANDAS_TYPES[kind])
        elif kind == "boolean":
            frame[name] = frame[name].map({"true": True, "false": False}).astype("boolean")
        elif kind == "date":
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
        else:
            frame[name] = frame[name].astype("string")
    return frame


def rehash(data_dir: str | os.PathLike | None = None) -> list[tuple[str, str, str]]:
    """Record the current sha256 and size of every resource in ``datapackage.json``.

    This is the deliberate act after an edit of a data file; validation never writes.
    Returns (resource, old hash, new hash) for each resource whose hash changed.
    """
    folder = paths.data_dir(data_dir)
    descriptor = read_descriptor(folder)
    changed = []
    for res in descriptor["resources"]:
        file = folder / res["path"]
        new = f"sha256:{sha256_of(file)}"
        if res.get("hash") != new:
            changed.append((res["name"], res.get("hash", ""), new))
        res["hash"] = new
        res["bytes"] = file.stat().st_size
    tmp = folder / (DESCRIPTOR + ".tmp")
    tmp.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(folder / DESCRIPTOR)
    return changed
