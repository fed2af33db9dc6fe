"""The real request samples shipped in ``data/requests/raw/``, read through the loaders.

Each sample has a ``.meta.json`` sidecar naming its mapping and its snapshot (the
censoring time, an assumption recorded there with its justification), so reading one
is ``read_export(path)``: canonical records, quarantine and problems.

>>> from hotlines.requests import samples
>>> result = samples.load("sf_10k")
>>> (result.read, result.kept, result.quarantined)
(10000, 9871, 129)
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pandas as pd

from .. import paths

#: short name -> file in data/requests/raw/
SAMPLES = {
    "nyc_1k": "new_york_nyc311_allagency_1k_2024-04-15.csv",
    "nyc_20k": "new_york_nyc311_nypd_sample20k_2015-12.csv",
    "nyc_100": "new_york_nyc311_random100_2010-2020.csv",
    "sf_10k": "san_francisco_sf311_cases_sample10k_2008-2016.csv",
    "boston_100": "boston_311_sample100_2022-01.csv",
}


def path(name: str) -> Path:
    """The shipped file of a sample (see ``SAMPLES``)."""
    if name not in SAMPLES:
        raise KeyError(f"no request sample {name!r}; the samples are {', '.join(SAMPLES)}")
    return paths.data_dir() / "requests" / "raw" / SAMPLES[name]


@functools.lru_cache(maxsize=None)
def _load(name: str):
    from .loaders import read_export

    return read_export(path(name))


def load(name: str):
    """The sample read through its mapping: a ``ValidationResult`` (records, quarantine, problems).

    The result is cached; its frames are copied so a caller's changes never leak.
    """
    result = _load(name)
    frames = {f.name: getattr(result, f.name).copy() for f in dataclasses.fields(result)
              if isinstance(getattr(result, f.name), pd.DataFrame)}
    return dataclasses.replace(result, **frames)
