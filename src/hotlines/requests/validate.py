"""Validation of raw request records with quarantine: every row read is kept or quarantined.

:func:`validate_raw` turns a raw table (strings, as published) into canonical records
(:mod:`hotlines.requests.schema`) and sorts every row into *kept* or *quarantined*;
``kept + quarantined = read`` is checked in code and a failure raises. A quarantined
row keeps its raw values, its source file and row number and every rule it broke.
Some problems only **flag** a row: it is kept and the flag is listed in ``problems``.

The rules (``RULES``), and why each quarantines or flags:

Quarantine (the row cannot enter a duration analysis as it stands):

- ``missing-request-id``: a record that cannot be identified cannot be deduplicated.
- ``missing-created``, ``unparseable-created``: no start, so no duration and no
  censoring time (the raw text is in the message).
- ``unparseable-closed``: a closing time was published but cannot be read.
- ``status-unknown``: a status the mapping does not list, so open or closed is
  unknown; extend the mapping rather than guess.
- ``closed-status-without-date``: closed, but when is unknown: neither an event nor
  censored.
- ``closed-date-with-open-status``: a closing time on an open request (re-opened?
  stale status?): event and censoring cannot be told apart.
- ``closed-before-created``: a negative duration is impossible.
- ``created-after-snapshot``, ``closed-after-snapshot``: a record cannot show a time
  after it was retrieved (a future date). Due dates are targets and may lie ahead.
- ``duplicate-row``: a later copy of a record identical in every mapped field to an
  earlier one (the first copy is kept).
- ``duplicate-id``: one id with different contents; which is right is unknown, so every
  copy is quarantined.

Flag (the row is kept; the flag is listed in ``problems``):

- ``zero-duration``: closed the instant it was opened; may be a legitimate instant
  closure (referred or answered during the call).
- ``duration-over-5-years``: longer than 5 x 365.25 days (closed, or open until the
  snapshot). Possible (long works, administrative bulk closures of stale cases), and
  dropping such rows would cut the right tail and bias every quantile downwards, the
  same bias as dropping open requests.
- ``unparseable-due``: the target date is not needed for durations; it is left missing
  and the raw text is in the message.
- ``dst-ambiguous``, ``dst-nonexistent``: a wall time repeated (clocks go back) or
  skipped (clocks go forward). Read as standard time (the offset without daylight
  saving): one documented rule, an error of at most one hour, and quarantining them
  would remove every request logged in that hour of two nights a year.

Durations and the snapshot comparisons use the UTC instants, so that a duration across
a daylight-saving change is right.

>>> import pandas as pd
>>> raw = pd.DataFrame({"case_enquiry_id": ["1", "2"], "open_dt": ["2022-01-03 10:00:00"] * 2,
...     "closed_dt": ["2022-01-02 09:00:00", ""], "case_status": ["Closed", "Open"],
...     "department": ["PWDx"] * 2, "type": ["Pothole"] * 2, "source": ["App"] * 2, "target_dt": ["", ""]})
>>> result = validate_raw(raw, "boston_311-service-requests", source_file="demo.csv",
...                       snapshot=pd.Timestamp("2022-02-01", tz="UTC"))
>>> len(result.records), len(result.quarantine), result.quarantine["rules"].tolist()
(1, 1, ['closed-before-created'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .mapping import TIMESTAMP_FIELDS, Mapping, load_mapping, parse_local
from .schema import COLUMNS, conform

QUARANTINE = "quarantine"
FLAG = "flag"

#: rule -> (action, what it means)
RULES: dict[str, tuple[str, str]] = {
    "missing-request-id": (QUARANTINE, "the request id is blank"),
    "missing-created": (QUARANTINE, "the creation time is blank"),
    "unparseable-created": (QUARANTINE, "the creation time matches none of the mapping's formats"),
    "unparseable-closed": (QUARANTINE, "the closing time matches none of the mapping's formats"),
    "status-unknown": (QUARANTINE, "the status is blank or not listed as open or closed in the mapping"),
    "closed-status-without-date": (QUARANTINE, "closed status but no closing time"),
    "closed-date-with-open-status": (QUARANTINE, "a closing time but an open status"),
    "closed-before-created": (QUARANTINE, "closed before it was created (negative duration)"),
    "created-after-snapshot": (QUARANTINE, "created after the snapshot (a future date)"),
    "closed-after-snapshot": (QUARANTINE, "closed after the snapshot (a future date)"),
    "duplicate-row": (QUARANTINE, "a later copy of an identical record (the first copy is kept)"),
    "duplicate-id": (QUARANTINE, "the same request id with different contents (every copy)"),
    "zero-duration": (FLAG, "closed at the instant it was created"),
    "duration-over-5-years": (FLAG, "duration (closed, or open until the snapshot) over 5 x 365.25 days"),
    "unparseable-due": (FLAG, "the due date matches none of the formats; left missing"),
    "dst-ambiguous": (FLAG, "wall time repeated at the autumn clock change; read as standard time"),
    "dst-nonexistent": (FLAG, "wall time skipped at the spring clock change; read as standard time"),
}

#: the threshold of ``duration-over-5-years``
LONG_DURATION = pd.Timedelta(days=5 * 365.25)

PROBLEM_COLUMNS = ["source_file", "source_row", "request_id", "rule", "action", "field", "value", "message"]
QUARANTINE_META = ["source_file", "source_row", "rules", "detail"]


class ValidationAccountingError(RuntimeError):
    """kept + quarantined differs from read: a bug, never a data problem."""


@dataclass
class ValidationResult:
    """What :func:`validate_raw` made of one raw table.

    ``records``: kept rows, canonical columns. ``quarantine``: quarantined rows with
    their raw values plus ``source_file``, ``source_row``, ``rules`` (``;``-separated)
    and ``detail``. ``problems``: one row per rule broken (quarantining or flagging)
    per row, tidy. ``read``: rows read.
    """

    records: pd.DataFrame
    quarantine: pd.DataFrame
    problems: pd.DataFrame
    read: int
    source_file: str
    mapping: Mapping
    notes: list[str] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return len(self.records)

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    def summary(self) -> pd.DataFrame:
        """Rows per rule, and the totals read / kept / quarantined / flagged.

        A row that breaks two rules counts under both rules but once in the totals.
        """
        totals = [
            ("read", "", self.read, "rows read from the source"),
            ("kept", "", self.kept, "rows kept (canonical records)"),
            ("quarantined", "", self.quarantined, "rows quarantined (raw values kept with their reasons)"),
        ]
        kept_rows = set(self.records["source_row"].astype(int))
        flags = self.problems.loc[self.problems["action"] == FLAG, "source_row"]
        flagged = int(flags[flags.isin(kept_rows)].nunique())
        totals.append(("flagged", "", flagged, "kept rows carrying at least one flag"))
        counts = (
            self.problems.groupby(["rule", "action"])["source_row"].nunique().rename("rows").reset_index()
            if len(self.problems) else pd.DataFrame(columns=["rule", "action", "rows"])
        )
        counts["description"] = counts["rule"].map(lambda r: RULES[r][1])
        order = {rule: i for i, rule in enumerate(RULES)}
        counts = counts.sort_values("rule", key=lambda s: s.map(order))
        head = pd.DataFrame(totals, columns=["rule", "action", "rows", "description"])
        return pd.concat([head, counts], ignore_index=True).astype({"rows": int})


def _span(delta: pd.Timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _text(raw: pd.DataFrame, column: str | None) -> pd.Series:
    """The stripped text of a source column; blank is missing (pd.NA)."""
    if column is None:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    text = raw[column].astype("string").str.strip()
    return text.mask(text == "")


def validate_raw(
    raw: pd.DataFrame,
    mapping: Mapping | str,
    *,
    source_file: str,
    snapshot: pd.Timestamp | pd.Series,
    source_row: pd.Series | None = None,
) -> ValidationResult:
    """Canonical records from a raw table of strings, with quarantine and flags.

    ``snapshot``: when the records were retrieved (UTC), one time or one per row.
    ``source_row``: 1-based row numbers in the source (default 1..n in order).
    Raises :class:`~hotlines.requests.mapping.MappingError` when a field the mapping
    needs is absent (naming the file and field); otherwise never drops a row.
    """
    mapping = load_mapping(mapping)
    raw = raw.reset_index(drop=True)
    n = len(raw)
    where = source_file
    columns = mapping.resolve(raw.columns, where)
    notes = [
        f"{where}: field for '{c}' absent from this file; '{c}' is missing in every row"
        for c, source in columns.items() if source is None
    ]
    clash = [c for c in QUARANTINE_META if c in raw.columns]
    if clash:
        raise ValueError(f"{where}: raw columns {clash} collide with the quarantine's own columns")

    rows = pd.Series(np.arange(1, n + 1), dtype="Int64") if source_row is None else \
        pd.Series(np.asarray(source_row), dtype="Int64")
    if isinstance(snapshot, pd.Series):
        snap = pd.Series(pd.to_datetime(snapshot.to_numpy(), utc=True), dtype=COLUMNS["snapshot"][0])
    else:
        stamp = pd.Timestamp(snapshot)
        if stamp.tzinfo is None:
            raise ValueError("snapshot must be timezone-aware (UTC)")
        snap = pd.Series([stamp.tz_convert("UTC")] * n, dtype=COLUMNS["snapshot"][0])
    if len(snap) != n:
        raise ValueError(f"{where}: {len(snap)} snapshot times for {n} rows")

    text = {c: _text(raw, columns.get(c)) for c in ("request_id", "status", "agency", "category", "channel")}
    parsed = {
        c: parse_local(_text(raw, columns.get(c)), mapping.timestamp_formats, mapping.timezone)
        for c in TIMESTAMP_FIELDS
    }
    status = text["status"]
    is_closed = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    is_closed[status.isin(list(mapping.closed_statuses)).fillna(False).to_numpy()] = True
    is_closed[status.isin(list(mapping.open_statuses)).fillna(False).to_numpy()] = False

    records = pd.DataFrame({
        "city": mapping.city,
        "dataset": mapping.dataset,
        "request_id": text["request_id"],
        "created": parsed["created"].utc,
        "closed": parsed["closed"].utc,
        "status": status,
        "is_closed": is_closed,
        "agency": text["agency"],
        "category": text["category"],
        "channel": text["channel"],
        "due": parsed["due"].utc,
        "snapshot": snap,
        "source_file": source_file,
        "source_row": rows,
    }, index=raw.index)

    problems: list[dict] = []

    def report(mask, rule: str, field_name: str | None, values, message):
        mask = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        vals = pd.Series(values).reset_index(drop=True) if values is not None else None
        for pos in positions:
            value = None if vals is None or pd.isna(vals.iloc[pos]) else str(vals.iloc[pos])
            problems.append({
                "position": pos, "rule": rule, "field": field_name, "value": value,
                "message": message(pos) if callable(message) else message,
            })

    def src(canonical: str) -> str | None:
        return columns.get(canonical)

    created, closed = records["created"], records["closed"]
    raw_created = _text(raw, src("created"))
    raw_closed = _text(raw, src("closed"))
    raw_due = _text(raw, src("due"))

    report(text["request_id"].isna(), "missing-request-id", src("request_id"), None, "the request id is blank")
    report(raw_created.isna(), "missing-created", src("created"), None, "the creation time is blank")
    fmts = " | ".join(mapping.timestamp_formats)
    report(parsed["created"].unparseable, "unparseable-created", src("created"), raw_created,
           lambda i: f"{raw_created.iloc[i]!r} matches none of the formats {fmts}")
    report(parsed["closed"].unparseable, "unparseable-closed", src("closed"), raw_closed,
           lambda i: f"{raw_closed.iloc[i]!r} matches none of the formats {fmts}")
    report(parsed["due"].unparseable, "unparseable-due", src("due"), raw_due,
           lambda i: f"{raw_due.iloc[i]!r} matches none of the formats {fmts}; due left missing")
    listed = sorted(mapping.closed_statuses | mapping.open_statuses)
    report(is_closed.isna(), "status-unknown", src("status"), status,
           lambda i: f"status {status.iloc[i] if pd.notna(status.iloc[i]) else ''!r} is not one of {listed} "
                     f"(extend the mapping {mapping.name} if it is a real status)")
    has_closed_text = raw_closed.notna()
    report(is_closed.fillna(False) & ~has_closed_text, "closed-status-without-date", src("closed"), status,
           lambda i: f"status {status.iloc[i]!r} is closed but the closing time is blank")
    report((is_closed == False).fillna(False) & has_closed_text, "closed-date-with-open-status",  # noqa: E712
           src("status"), status,
           lambda i: f"status {status.iloc[i]!r} is open but the closing time is {raw_closed.iloc[i]!r}")
    duration = closed - created
    report(duration < pd.Timedelta(0), "closed-before-created", src("closed"), raw_closed,
           lambda i: f"closed {raw_closed.iloc[i]} is {_span(-duration.iloc[i])} before created {raw_created.iloc[i]}")
    report(created > snap, "created-after-snapshot", src("created"), raw_created,
           lambda i: f"created {raw_created.iloc[i]} (local) is after the snapshot {snap.iloc[i].isoformat()}")
    report(closed > snap, "closed-after-snapshot", src("closed"), raw_closed,
           lambda i: f"closed {raw_closed.iloc[i]} (local) is after the snapshot {snap.iloc[i].isoformat()}")
    report(duration == pd.Timedelta(0), "zero-duration", src("closed"), raw_closed,
           "closed at the instant it was created")
    to_snapshot = snap - created
    long_closed = duration > LONG_DURATION
    long_open = closed.isna() & (is_closed == False).fillna(False) & (to_snapshot > LONG_DURATION)  # noqa: E712
    report(long_closed | long_open, "duration-over-5-years", src("closed"), raw_closed,
           lambda i: (f"closed after {duration.iloc[i].total_seconds() / 86400:.1f} days" if long_closed.iloc[i]
                      else f"open for {to_snapshot.iloc[i].total_seconds() / 86400:.1f} days at the snapshot"))
    for canonical in TIMESTAMP_FIELDS:
        p = parsed[canonical]
        raw_values = _text(raw, src(canonical))
        report(p.ambiguous, "dst-ambiguous", src(canonical), raw_values,
               lambda i, p=p: f"{p.local.iloc[i]} occurs twice in {mapping.timezone}; read as standard time "
                              f"({p.utc.iloc[i].isoformat()})")
        report(p.nonexistent, "dst-nonexistent", src(canonical), raw_values,
               lambda i, p=p: f"{p.local.iloc[i]} does not exist in {mapping.timezone}; read as standard time "
                              f"({p.utc.iloc[i].isoformat()})")

    # duplicates: judged on the mapped fields, so that a file's own row numbering does not hide a copy
    mapped = [c for c in columns.values() if c is not None]
    ids = text["request_id"]
    repeated = ids.notna() & ids.duplicated(keep=False)
    if repeated.any():
        content = raw[mapped].astype("string").fillna("").agg("\x1f".join, axis=1)
        for rid, group in ids[repeated].groupby(ids[repeated]):
            positions = list(group.index)
            row_numbers = [int(rows.iloc[p]) for p in positions]
            if content.iloc[positions].nunique() == 1:
                for p in positions[1:]:
                    problems.append({"position": p, "rule": "duplicate-row", "field": src("request_id"),
                                     "value": rid, "message": f"identical to row {row_numbers[0]}"})
            else:
                for p in positions:
                    problems.append({
                        "position": p, "rule": "duplicate-id", "field": src("request_id"), "value": rid,
                        "message": f"request id {rid} in rows {', '.join(map(str, row_numbers))} with different values",
                    })

    table = pd.DataFrame(problems, columns=["position", "rule", "field", "value", "message"])
    table["action"] = table["rule"].map(lambda r: RULES[r][0])
    table["source_file"] = source_file
    table["source_row"] = rows.to_numpy()[table["position"].to_numpy(dtype=int)] if len(table) else pd.Series(dtype="Int64")
    table["request_id"] = ids.to_numpy()[table["position"].to_numpy(dtype=int)] if len(table) else pd.Series(dtype="string")
    rank = {rule: i for i, rule in enumerate(RULES)}
    table = table.assign(_rank=table["rule"].map(rank)).sort_values(["position", "_rank"], kind="stable")

    bad = table.loc[table["action"] == QUARANTINE]
    quarantined_positions = np.zeros(n, dtype=bool)
    quarantined_positions[bad["position"].to_numpy(dtype=int)] = True

    kept = conform(records.loc[~quarantined_positions]).reset_index(drop=True)
    grouped = bad.groupby("position")
    quarantine = raw.loc[quarantined_positions].copy()
    positions = np.flatnonzero(quarantined_positions)
    quarantine.insert(0, "detail", [" | ".join(f"{r}: {m}" for r, m in zip(g["rule"], g["message"]))
                                    for _, g in grouped] if len(positions) else [])
    quarantine.insert(0, "rules", [";".join(g["rule"]) for _, g in grouped] if len(positions) else [])
    quarantine.insert(0, "source_row", rows.to_numpy()[positions])
    quarantine.insert(0, "source_file", source_file)
    quarantine = quarantine.reset_index(drop=True)

    if len(kept) + len(quarantine) != n:
        raise ValidationAccountingError(
            f"{where}: kept {len(kept)} + quarantined {len(quarantine)} != read {n}"
        )
    return ValidationResult(
        records=kept,
        quarantine=quarantine,
        problems=table[PROBLEM_COLUMNS].reset_index(drop=True),
        read=n,
        source_file=source_file,
        mapping=mapping,
        notes=notes,
    )
