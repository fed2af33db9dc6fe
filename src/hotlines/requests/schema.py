"""The canonical request-record schema shared by every city's loader and by the analysis.

One row per service request, whatever the city or dataset version. Timestamps are
timezone-aware UTC: exports publish naive local time, which loaders localise with the
city's zone (``CITY_TIMEZONES``) before converting, so that durations across daylight
saving changes are right. ``snapshot`` is when the records were retrieved: an open
request is right-censored there.

>>> from hotlines.requests.schema import COLUMNS
>>> list(COLUMNS)[:4]
['city', 'dataset', 'request_id', 'created']
"""

from __future__ import annotations

import pandas as pd

#: column -> (pandas dtype, meaning)
COLUMNS: dict[str, tuple[str, str]] = {
    "city": ("string", "city id of data/cities.csv"),
    "dataset": ("string", "dataset id and structure version, e.g. 'nyc_erm2-nwe9'"),
    "request_id": ("string", "the publisher's request identifier"),
    "created": ("datetime64[ns, UTC]", "when the request was opened"),
    "closed": ("datetime64[ns, UTC]", "when it was closed; missing while open"),
    "status": ("string", "status as published"),
    "is_closed": ("boolean", "the publisher reports the request closed"),
    "agency": ("string", "responsible agency or department"),
    "category": ("string", "request category (complaint type, service name)"),
    "channel": ("string", "intake channel (phone, online, app, ...), where published"),
    "due": ("datetime64[ns, UTC]", "target date (service level), where published"),
    "snapshot": ("datetime64[ns, UTC]", "when the records were retrieved: the censoring time of open requests"),
    "source_file": ("string", "the raw file or query the row came from"),
    "source_row": ("Int64", "1-based data row in that file or result set"),
}

#: IANA time zones of the cities with request-level data.
CITY_TIMEZONES = {
    "new_york": "America/New_York",
    "san_francisco": "America/Los_Angeles",
    "chicago": "America/Chicago",
    "boston": "America/New_York",
    "toronto": "America/Toronto",
    "rio_de_janeiro": "America/Sao_Paulo",
}


def empty() -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, (dtype, _) in COLUMNS.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns, in order and with their dtypes; raises on a missing column."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"canonical request records lack columns: {', '.join(missing)}")
    return frame[list(COLUMNS)].astype({name: dtype for name, (dtype, _) in COLUMNS.items()})


def durations(frame: pd.DataFrame) -> pd.DataFrame:
    """Time-to-event view: ``duration_days`` and ``event`` (closed) for survival analysis.

    A closed request's duration runs from ``created`` to ``closed``; an open one's from
    ``created`` to ``snapshot``, where it is right-censored (``event`` False).
    """
    event = frame["is_closed"].fillna(False).astype(bool) & frame["closed"].notna()
    end = frame["closed"].where(event, frame["snapshot"])
    duration = (end - frame["created"]).dt.total_seconds() / 86400.0
    return frame.assign(duration_days=duration.astype(float), event=event)
