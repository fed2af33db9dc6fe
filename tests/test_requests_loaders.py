"""Loaders: every mapping on its real sample, and fetches from a real local HTTP server.

Nothing here reaches the internet. The server is ``http.server`` on 127.0.0.1 in a
thread; it serves Socrata-shaped JSON pages (``$limit``/``$offset``/``$order``/
``$where``, ``X-SODA2-Fields``, null fields left out of records) and CKAN-shaped
``datastore_search`` / ``datastore_search_sql`` responses, built from the real samples
in ``data/requests/raw/``, and fails on purpose as a scenario says: HTTP 500, a reply
slower than the client's timeout, a truncated JSON page, a renamed field, a dropped
connection. Expected counts come from the samples' provenance notes (``SOURCE.md``) and
from independent recomputation with the ``csv`` module and ``zoneinfo``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from typer.testing import CliRunner

from hotlines import paths
from hotlines.requests.cli import app
from hotlines.requests.loaders import (
    FetchError,
    SchemaChangedError,
    fetch,
    read_export,
    read_raw,
    sha256_file,
    sidecar_path,
)
from hotlines.requests.mapping import available_mappings, find_mapping, latest_observed, load_mapping

RAW = paths.REPO_ROOT / "data" / "requests" / "raw"
SF = RAW / "san_francisco_sf311_cases_sample10k_2008-2016.csv"
NYPD20K = RAW / "new_york_nyc311_nypd_sample20k_2015-12.csv"
NYC1K = RAW / "new_york_nyc311_allagency_1k_2024-04-15.csv"
NYC100 = RAW / "new_york_nyc311_random100_2010-2020.csv"
BOSTON = RAW / "boston_311_sample100_2022-01.csv"
SAMPLES = {SF: "sf_bk8g-9b93_legacy", NYPD20K: "nyc_erm2-nwe9_api", NYC1K: "nyc_erm2-nwe9_api",
           NYC100: "nyc_erm2-nwe9_csv", BOSTON: "boston_311-service-requests"}
FAST = dict(progress=False, timeout=2.0, max_attempts=3, backoff_initial=0.01, backoff_max=0.05)


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- the samples


@pytest.mark.parametrize("path", list(SAMPLES), ids=lambda p: p.name)
def test_sample_is_documented_byte_identical_and_accounted_for(path):
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    assert meta["bytes"] == path.stat().st_size
    assert meta["sha256"] in (RAW / "SOURCE.md").read_text()
    rows = csv_rows(path)
    assert meta["rows"] == len(rows)
    assert meta["mapping"]["name"] == SAMPLES[path]
    # the snapshot is a labelled assumption: the latest observed timestamp, recomputed here
    snap = meta["snapshot"]
    assert snap["status"].startswith("ASSUMPTION") and snap["justification"]
    mapping = load_mapping(SAMPLES[path])
    raw = read_raw(path)
    assert pd.Timestamp(snap["utc"]) == latest_observed(raw.frame, mapping, path.name)
    result = read_export(path)  # mapping and snapshot from the sidecar
    assert result.mapping.name == SAMPLES[path]
    assert result.kept + result.quarantined == result.read == len(rows)
    assert sorted(result.records["source_row"].tolist() + result.quarantine["source_row"].tolist()) == \
        list(range(1, len(rows) + 1))
    # every quarantined row carries its raw values verbatim
    for _, q in result.quarantine.iterrows():
        original = rows[int(q["source_row"]) - 1]
        assert {k: q[k] for k in original} == original


def test_the_raw_headers_are_kept_as_published():
    assert list(read_raw(SF).frame.columns)[:3] == ["", "CaseID", "Opened"]


def test_san_francisco_sample_470_open_and_129_closed_before_opened():
    result = read_export(SF)
    # independent count: parse Opened/Closed with datetime and zoneinfo
    zone, fmt = ZoneInfo("America/Los_Angeles"), "%m/%d/%Y %I:%M:%S %p"
    backwards = sum(
        1 for r in csv_rows(SF) if r["Closed"] and
        datetime.strptime(r["Closed"], fmt).replace(tzinfo=zone) < datetime.strptime(r["Opened"], fmt).replace(tzinfo=zone)
    )
    assert backwards == 129
    summary = result.summary().set_index("rule")["rows"]
    assert summary["closed-before-created"] == 129 and summary["quarantined"] == 129
    assert set(result.quarantine["rules"]) == {"closed-before-created"}
    assert (result.records["is_closed"] == False).sum() == 470  # noqa: E712
    assert result.records["closed"].isna().sum() == 470
    assert result.records["agency"].nunique() == 149 and result.records["category"].nunique() == 28


def test_new_york_1k_sample_708_without_closed_date_707_open():
    rows = csv_rows(NYC1K)
    assert sum(1 for r in rows if not r["closed_date"]) == 708  # 70.8%
    assert sum(1 for r in rows if r["status"] != "Closed") == 707  # 70.7%
    result = read_export(NYC1K)
    assert (result.read, result.kept, result.quarantined) == (1000, 999, 1)
    q = result.quarantine.iloc[0]
    assert (q["unique_key"], q["status"], q["closed_date"], q["rules"]) == ("60870611", "Closed", "", "closed-status-without-date")
    assert (result.records["is_closed"] == False).sum() == 707  # noqa: E712
    kept_rows = [r for r in rows if r["unique_key"] != "60870611"]
    assert result.records["channel"].value_counts().to_dict() == \
        pd.Series([r["open_data_channel_type"] for r in kept_rows]).value_counts().to_dict()
    assert result.records["due"].notna().sum() == 16
    flags = result.problems.loc[result.problems["action"] == "flag", "rule"].value_counts().to_dict()
    assert flags == {"zero-duration": sum(1 for r in rows if r["closed_date"] and r["closed_date"] == r["created_date"])}


def test_new_york_20k_sample_125_without_closed_date():
    result = read_export(NYPD20K)
    assert (result.read, result.kept, result.quarantined) == (20000, 20000, 0)
    records = result.records
    assert records["closed"].isna().sum() == 125
    assert records.loc[records["closed"].isna(), "status"].value_counts().to_dict() == {"Open": 78, "Assigned": 47}
    assert (records["agency"] == "NYPD").all() and records["category"].nunique() == 19
    assert records["channel"].isna().all() and records["due"].isna().all()
    assert any("'channel'" in note for note in result.notes)
    # the first row, 12/31/2015 11:59:45 PM EST = 2016-01-01 04:59:45 UTC
    assert records.loc[records["request_id"] == "32310363", "created"].iloc[0] == pd.Timestamp("2016-01-01T04:59:45Z")


def test_new_york_title_case_sample():
    result = read_export(NYC100)
    assert (result.read, result.kept, result.quarantined) == (100, 99, 1)
    q = result.quarantine.iloc[0]
    assert (q["Unique Key"], q["Status"], q["rules"]) == ("34170943", "Pending", "closed-date-with-open-status")
    assert (result.records["status"] == "Closed").sum() == 98
    assert result.records["agency"].nunique() == 12


def test_boston_sample():
    result = read_export(BOSTON)
    assert (result.read, result.kept, result.quarantined) == (100, 100, 0)
    assert (result.records["is_closed"] == False).sum() == 15  # noqa: E712
    assert result.records["due"].notna().sum() == sum(1 for r in csv_rows(BOSTON) if r["target_dt"])
    assert result.records["channel"].value_counts().to_dict() == {
        "Citizens Connect App": 56, "Constituent Call": 30, "City Worker App": 11, "Self Service": 3}


def test_every_mapping_loads_and_those_with_samples_name_them():
    table = available_mappings()
    assert set(table["name"]) == {"nyc_erm2-nwe9_api", "nyc_erm2-nwe9_csv", "sf_vw6y-z8j6", "sf_bk8g-9b93_legacy",
                                  "chicago_v6vf-nfxy", "boston_311-service-requests"}
    for name in table["name"]:
        m = load_mapping(name)
        for sample in m.verified_on:
            assert SAMPLES[paths.REPO_ROOT / sample] == name
    assert find_mapping("new_york", "erm2-nwe9", fetchable=True).name == "nyc_erm2-nwe9_api"
    assert find_mapping("chicago", "v6vf-nfxy").name == "chicago_v6vf-nfxy"


# ---------------------------------------------------------------- the local server


@dataclass
class Scenario:
    """What the server serves and how it misbehaves.

    ``plan``: data-page offset -> list of actions used one per request ('500', 'slow',
    'truncate', 'drop'; then normal). ``rename``: field renames applied to pages from
    offset ``rename_from``. ``delay``: seconds before each data page.
    """

    kind: str
    records: list[dict]
    fields: list[str]
    order: str
    plan: dict[int, list[str]] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    rename_from: int = 0
    delay: float = 0.0
    slow_seconds: float = 1.0
    log: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def socrata_records(path: Path, timestamp_fields=()) -> tuple[list[dict], list[str]]:
    """Socrata JSON records from a CSV sample: null (blank) fields are left out, as SODA does.

    ``timestamp_fields`` are rewritten from the export format to the API's ISO floating
    timestamps (the same wall time, written as the API writes it).
    """
    rows = csv_rows(path)
    fields = list(rows[0])
    out = []
    for r in rows:
        record = {}
        for k, v in r.items():
            if v == "":
                continue
            if k in timestamp_fields:
                v = datetime.strptime(v, "%m/%d/%Y %I:%M:%S %p").strftime("%Y-%m-%dT%H:%M:%S.000")
            record[k] = v
        out.append(record)
    return out, fields


WHERE = re.compile(r"""^"?(\w+)"? >= '([^']+)' AND "?(\w+)"? < '([^']+)'$""")


def _filter(records, where):
    if not where:
        return records
    match = WHERE.match(where)
    assert match, where
    name, low, _, high = match.groups()
    return [r for r in records if name in r and low <= r[name] < high]


class Handler(BaseHTTPRequestHandler):
    scenario: Scenario

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        s = self.scenario
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        entry = {"path": url.path, "params": q, "token": self.headers.get("X-App-Token")}
        if s.kind == "socrata":
            self._socrata(s, url, q, entry)
        else:
            self._ckan(s, url, q, entry)

    def _action(self, s, offset):
        with s.lock:
            steps = s.plan.get(offset)
            return steps.pop(0) if steps else "ok"

    def _fields_and_records(self, s, offset):
        records, fields = s.records, s.fields
        if s.rename and offset >= s.rename_from:
            fields = [s.rename.get(f, f) for f in fields]
            records = [{s.rename.get(k, k): v for k, v in r.items()} for r in records]
        return fields, records

    def _misbehave(self, action, body: bytes, headers) -> bool:
        if action == "500":
            self._send(500, b'{"error": true, "message": "Internal error"}')
        elif action == "slow":
            time.sleep(self.scenario.slow_seconds)
            try:
                self._send(200, body, headers)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif action == "truncate":
            self._send(200, body[: len(body) // 2], headers)
        elif action == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
        else:
            return False
        return True

    def _socrata(self, s, url, q, entry):
        if q.get("$select") == "count(*)":
            _, records = self._fields_and_records(s, 0)
            self._send(200, json.dumps([{"count": str(len(_filter(records, q.get("$where"))))}]).encode())
            return
        offset, limit = int(q["$offset"]), int(q["$limit"])
        entry["offset"] = offset
        with s.lock:
            s.log.append(entry)
        fields, records = self._fields_and_records(s, offset)
        for name in [q["$order"]] + ([WHERE.match(q["$where"]).group(1)] if q.get("$where") else []):
            if name not in fields:
                error = {"code": "query.soql.no-such-column", "error": True,
                         "message": f"No such column: {name}", "data": {"column": name}}
                self._send(400, json.dumps(error).encode())
                return
        chosen = sorted(_filter(records, q.get("$where")), key=lambda r: r.get(q["$order"], ""))
        page = chosen[offset: offset + limit]
        body = json.dumps(page).encode()
        headers = {"X-SODA2-Fields": json.dumps(fields), "X-SODA2-Types": json.dumps(["text"] * len(fields))}
        if s.delay:
            time.sleep(s.delay)
        if not self._misbehave(self._action(s, offset), body, headers):
            self._send(200, body, headers)

    def _ckan(self, s, url, q, entry):
        action = url.path.rsplit("/", 1)[-1]
        fields, records = self._fields_and_records(s, 0)
        records = [{"_id": i + 1, **r} for i, r in enumerate(records)]
        if action == "datastore_search":
            offset, limit, where = int(q.get("offset", 0)), int(q["limit"]), None
            if limit == 0:
                self._send(200, json.dumps({"success": True, "result": {"total": len(records), "records": []}}).encode())
                return
        else:
            sql = q["sql"]
            count = re.match(r'SELECT COUNT\(\*\) AS count FROM "[^"]+" WHERE (.+)$', sql)
            if count:
                n = len(_filter(records, count.group(1)))
                self._send(200, json.dumps({"success": True, "result": {"records": [{"count": n}]}}).encode())
                return
            m = re.match(r'SELECT \* FROM "[^"]+" WHERE (.+) ORDER BY "_id" LIMIT (\d+) OFFSET (\d+)$', sql)
            assert m, sql
            where, limit, offset = m.group(1), int(m.group(2)), int(m.group(3))
        entry["offset"] = offset
        with s.lock:
            s.log.append(entry)
        chosen = _filter(records, where)
        page = chosen[offset: offset + limit]
        body = json.dumps({
            "help": "datastore_search", "success": True,
            "result": {"fields": [{"id": "_id", "type": "int"}] + [{"id": f, "type": "text"} for f in fields],
                       "records": page, "_full_text": None, "total": len(chosen)},
        }).encode()
        if not self._misbehave(self._action(s, offset), body, {}):
            self._send(200, body)


@pytest.fixture
def serve():
    servers = []

    def start(scenario: Scenario) -> str:
        handler = type("ScenarioHandler", (Handler,), {"scenario": scenario})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def nyc1k_scenario(**kw) -> Scenario:
    records, fields = socrata_records(NYC1K)
    return Scenario(kind="socrata", records=records, fields=fields, order="unique_key", **kw)


def frame_of(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def offsets(scenario: Scenario) -> list[int]:
    return [e["offset"] for e in scenario.log]


# ---------------------------------------------------------------- fetching


def test_socrata_fetch_pages_through_and_equals_the_sample(serve, tmp_path):
    scenario = nyc1k_scenario()
    base = serve(scenario)
    dest = tmp_path / "nyc.parquet"
    result = fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=150, **FAST)
    assert (result.rows, result.pages, result.resumed_pages) == (1000, 7, 0)
    assert offsets(scenario) == [0, 150, 300, 450, 600, 750, 900]
    assert all(e["params"]["$order"] == "unique_key" and e["params"]["$limit"] == "150" for e in scenario.log)
    # the cached raw values are the sample's, blank where the API left a field out
    expected = pd.DataFrame(csv_rows(NYC1K)).sort_values("unique_key", kind="stable").reset_index(drop=True)
    got = frame_of(dest).fillna("")
    assert list(got.columns) == list(expected.columns)
    assert got.astype(str).equals(expected.astype(str))
    meta = json.loads(sidecar_path(dest).read_text())
    assert meta["rows"] == 1000 and meta["sha256"] == sha256_file(dest) == result.sha256
    assert meta["base_url"] == base and meta["query"] == {"$order": "unique_key"}
    assert meta["mapping"] == {"name": "nyc_erm2-nwe9_api", "version": 1, "sha256": load_mapping("nyc_erm2-nwe9_api").sha256}
    assert [p["rows"] for p in meta["pages"]] == [150] * 6 + [100]
    assert not (tmp_path / "nyc.parquet.partial").exists()
    # validation of the fetched file: the same accounting as the CSV sample, censored at page times
    fetched = read_export(dest)
    assert (fetched.read, fetched.kept, fetched.quarantined) == (1000, 999, 1)
    assert (fetched.records["is_closed"] == False).sum() == 707  # noqa: E712
    page_times = {pd.Timestamp(p["retrieved_at"]) for p in meta["pages"]}
    assert set(fetched.records["snapshot"]) <= page_times and len(set(fetched.records["snapshot"])) > 1


def test_socrata_date_range_max_rows_and_app_token(serve, tmp_path):
    scenario = nyc1k_scenario()
    base = serve(scenario)
    in_range = sum(1 for r in csv_rows(NYC1K) if "2024-04-16T00:00:00" <= r["created_date"] < "2024-04-16T01:30:00")
    assert 100 < in_range < 1000
    result = fetch("nyc_erm2-nwe9_api", tmp_path / "night.parquet", base_url=base, since=datetime(2024, 4, 16),
                   until="2024-04-16T01:30", page_size=100, app_token="secret-token", **FAST)
    assert result.rows == in_range
    assert scenario.log[0]["params"]["$where"] == \
        "created_date >= '2024-04-16T00:00:00' AND created_date < '2024-04-16T01:30:00'"
    assert {e["token"] for e in scenario.log} == {"secret-token"}
    sidecar_text = sidecar_path(tmp_path / "night.parquet").read_text()
    assert "secret-token" not in sidecar_text and json.loads(sidecar_text)["app_token_used"] is True
    scenario.log.clear()
    capped = fetch("nyc_erm2-nwe9_api", tmp_path / "cap.parquet", base_url=base, page_size=100, max_rows=250, **FAST)
    assert capped.rows == 250 and [e["params"]["$limit"] for e in scenario.log] == ["100", "100", "50"]
    with pytest.raises(ValueError, match="local"):
        fetch("nyc_erm2-nwe9_api", tmp_path / "tz.parquet", base_url=base, since="2024-04-16T00:00:00Z", **FAST)


def test_http_500_then_success_is_retried(serve, tmp_path):
    scenario = nyc1k_scenario(plan={300: ["500", "500"]})
    result = fetch("nyc_erm2-nwe9_api", tmp_path / "r.parquet", base_url=serve(scenario), page_size=300, **FAST)
    assert result.rows == 1000
    assert offsets(scenario) == [0, 300, 300, 300, 600, 900]


def test_a_dropped_connection_is_retried(serve, tmp_path):
    scenario = nyc1k_scenario(plan={0: ["drop"]})
    result = fetch("nyc_erm2-nwe9_api", tmp_path / "d.parquet", base_url=serve(scenario), page_size=500, **FAST)
    # 1000 rows in pages of 500: the empty page at 1000 says the end is reached
    assert result.rows == 1000 and offsets(scenario) == [0, 0, 500, 1000]


def test_a_timeout_is_retried_then_a_persistent_one_is_a_clear_error(serve, tmp_path):
    scenario = nyc1k_scenario(plan={500: ["slow"]}, slow_seconds=1.0)
    options = {**FAST, "timeout": 0.3}
    result = fetch("nyc_erm2-nwe9_api", tmp_path / "t.parquet", base_url=serve(scenario), page_size=500, **options)
    assert result.rows == 1000 and offsets(scenario) == [0, 500, 500, 1000]

    stuck = nyc1k_scenario(plan={0: ["slow"] * 3}, slow_seconds=1.0)
    dest = tmp_path / "stuck.parquet"
    with pytest.raises(FetchError, match=r"no answer within 0.3 s.*gave up after 3 attempt"):
        fetch("nyc_erm2-nwe9_api", dest, base_url=serve(stuck), page_size=500, **options)
    assert list(tmp_path.glob("stuck*")) == []  # nothing cached, no partial folder left


def test_a_truncated_page_is_retried_then_a_persistent_one_is_a_clear_error(serve, tmp_path):
    scenario = nyc1k_scenario(plan={400: ["truncate"]})
    result = fetch("nyc_erm2-nwe9_api", tmp_path / "ok.parquet", base_url=serve(scenario), page_size=400, **FAST)
    assert result.rows == 1000 and offsets(scenario) == [0, 400, 400, 800]

    broken = nyc1k_scenario(plan={400: ["truncate"] * 3})
    dest = tmp_path / "broken.parquet"
    with pytest.raises(FetchError, match=r"page 1 \(offset 400\).*not valid JSON.*gave up after 3"):
        fetch("nyc_erm2-nwe9_api", dest, base_url=serve(broken), page_size=400, **FAST)
    assert not dest.exists() and not sidecar_path(dest).exists()
    partial = tmp_path / "broken.parquet.partial"
    assert sorted(p.name for p in partial.iterdir()) == ["page-000000.json", "query.json"]


def test_a_renamed_field_is_a_clear_error_and_nothing_is_cached(serve, tmp_path):
    scenario = nyc1k_scenario(rename={"created_date": "created_datetime"})
    dest = tmp_path / "renamed.parquet"
    with pytest.raises(SchemaChangedError) as error:
        fetch("nyc_erm2-nwe9_api", dest, base_url=serve(scenario), page_size=300, **FAST)
    message = str(error.value)
    assert "'created_date'" in message and "'created'" in message and "'created_datetime'" in message
    assert "nyc_erm2-nwe9_api" in message
    assert list(tmp_path.iterdir()) == []

    order_gone = nyc1k_scenario(rename={"unique_key": "request_key"})
    with pytest.raises(SchemaChangedError, match=r"No such column: unique_key"):
        fetch("nyc_erm2-nwe9_api", dest, base_url=serve(order_gone), page_size=300, **FAST)
    assert list(tmp_path.iterdir()) == []
    assert len(order_gone.log) == 1  # a 400 is not retried


def test_a_field_renamed_mid_fetch_stops_before_storing_the_changed_page(serve, tmp_path):
    scenario = nyc1k_scenario(rename={"status": "status_name"}, rename_from=600)
    dest = tmp_path / "mid.parquet"
    with pytest.raises(SchemaChangedError, match=r"field 'status' for canonical column 'status' is missing"):
        fetch("nyc_erm2-nwe9_api", dest, base_url=serve(scenario), page_size=300, **FAST)
    assert not dest.exists()
    stored = sorted(p.name for p in (tmp_path / "mid.parquet.partial").glob("page-*.json"))
    assert stored == ["page-000000.json", "page-000001.json"]


def test_an_interruption_then_resume_equals_an_uninterrupted_fetch(serve, tmp_path):
    base = serve(nyc1k_scenario())
    whole = fetch("nyc_erm2-nwe9_api", tmp_path / "whole.parquet", base_url=base, page_size=200, **FAST)

    scenario = nyc1k_scenario()
    base = serve(scenario)
    dest = tmp_path / "cut.parquet"
    seen_final = []

    def interrupt(index, rows):
        seen_final.append(dest.exists() or sidecar_path(dest).exists())
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=200, on_page=interrupt, **FAST)
    assert seen_final == [False, False, False] and not dest.exists()
    scenario.log.clear()
    resumed = fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=200, **FAST)
    assert resumed.resumed_pages == 3 and offsets(scenario) == [600, 800, 1000]
    assert resumed.sha256 == whole.sha256 and frame_of(dest).equals(frame_of(tmp_path / "whole.parquet"))

    # a different query is refused rather than mixed into the stored pages
    other = tmp_path / "other.parquet"
    with pytest.raises(KeyboardInterrupt):
        fetch("nyc_erm2-nwe9_api", other, base_url=base, page_size=200, on_page=interrupt, **FAST)
    with pytest.raises(FetchError, match="different query"):
        fetch("nyc_erm2-nwe9_api", other, base_url=base, page_size=250, **FAST)


def test_a_killed_process_leaves_no_partial_final_file_and_resumes(serve, tmp_path):
    base = serve(nyc1k_scenario())
    whole = fetch("nyc_erm2-nwe9_api", tmp_path / "whole.parquet", base_url=base, page_size=100, **FAST)

    scenario = nyc1k_scenario(delay=0.15)
    base = serve(scenario)
    out = tmp_path / "killed"
    out.mkdir()
    dest = out / "nyc.parquet"
    partial = out / "nyc.parquet.partial"
    code = (
        "from hotlines.requests.loaders import fetch\n"
        f"fetch('nyc_erm2-nwe9_api', {str(dest)!r}, base_url={base!r}, page_size=100, progress=False)\n"
    )
    names_seen: set[str] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            names_seen.update(os.listdir(out))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 60
        while len(list(partial.glob("page-*.json"))) < 3:
            assert process.poll() is None, "the fetch ended before it could be interrupted"
            assert time.time() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        stop.set()
        watcher.join()
        if process.poll() is None:
            process.kill()
    assert names_seen == {"nyc.parquet.partial"}  # the final file never existed, whole or half
    stored = sorted(partial.glob("page-*.json"))
    assert len(stored) >= 3
    for page in stored:  # every stored page is complete JSON (pages are written atomically)
        assert len(json.loads(page.read_text())["records"]) == 100
    scenario.log.clear()
    scenario.delay = 0.0
    resumed = fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=100, **FAST)
    assert resumed.resumed_pages == len(stored)
    assert min(offsets(scenario)) == 100 * len(stored)
    assert resumed.sha256 == whole.sha256 and frame_of(dest).equals(frame_of(tmp_path / "whole.parquet"))
    assert sorted(os.listdir(out)) == ["nyc.parquet", "nyc.parquet.meta.json"]


def test_an_existing_result_is_never_overwritten_unless_asked(serve, tmp_path):
    base = serve(nyc1k_scenario())
    dest = tmp_path / "keep.parquet"
    fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=500, max_rows=500, **FAST)
    before = (dest.read_bytes(), sidecar_path(dest).read_bytes())
    with pytest.raises(FetchError, match="already exists.*--force"):
        fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=500, **FAST)
    assert (dest.read_bytes(), sidecar_path(dest).read_bytes()) == before
    stranger = tmp_path / "stranger.parquet"
    stranger.write_bytes(b"not ours")
    with pytest.raises(FetchError, match="without its sidecar"):
        fetch("nyc_erm2-nwe9_api", stranger, base_url=base, page_size=500, **FAST)
    assert stranger.read_bytes() == b"not ours"
    again = fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=500, overwrite=True, **FAST)
    assert again.rows == 1000 and json.loads(sidecar_path(dest).read_text())["rows"] == 1000


def test_a_stop_between_the_two_renames_is_finished_by_a_rerun(serve, tmp_path, monkeypatch):
    base = serve(nyc1k_scenario())
    dest = tmp_path / "half.parquet"
    real_replace = os.replace

    def replace_then_die(src, dst):
        real_replace(src, dst)
        if str(dst).endswith(".parquet"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=500, **FAST)
    monkeypatch.setattr(os, "replace", real_replace)
    assert dest.exists() and not sidecar_path(dest).exists()
    finished = fetch("nyc_erm2-nwe9_api", dest, base_url=base, page_size=500, **FAST)
    assert finished.resumed_pages == 3 and json.loads(sidecar_path(dest).read_text())["sha256"] == sha256_file(dest)


def test_ckan_fetch_of_boston_with_paging_and_a_date_range(serve, tmp_path):
    rows = csv_rows(BOSTON)
    records = [{k: v for k, v in r.items() if v != ""} for r in rows]
    scenario = Scenario(kind="ckan", records=records, fields=list(rows[0]), order="_id")
    base = serve(scenario)
    with pytest.raises(FetchError, match="resource id"):
        fetch("boston_311-service-requests", tmp_path / "b.parquet", base_url=base, **FAST)
    result = fetch("boston_311-service-requests", tmp_path / "b.parquet", base_url=base, resource_id="abc-123",
                   page_size=30, **FAST)
    assert (result.rows, result.pages) == (100, 4)
    assert scenario.log[0]["params"] == {"resource_id": "abc-123", "limit": "30", "offset": "0", "sort": "_id asc"}
    got = frame_of(tmp_path / "b.parquet")
    assert got.columns[0] == "_id" and got["_id"].tolist() == [str(i) for i in range(1, 101)]
    fetched = read_export(tmp_path / "b.parquet")
    assert (fetched.kept, fetched.quarantined) == (100, 0)
    assert (fetched.records["is_closed"] == False).sum() == 15  # noqa: E712

    scenario.log.clear()
    week = fetch("boston_311-service-requests", tmp_path / "week.parquet", base_url=base, resource_id="abc-123",
                 since="2022-01-02", until="2022-01-04", page_size=10, **FAST)
    expected = sum(1 for r in rows if "2022-01-02" <= r["open_dt"] < "2022-01-04")
    assert week.rows == expected and expected > 10
    assert scenario.log[0]["path"].endswith("/datastore_search_sql")
    assert "WHERE \"open_dt\" >= '2022-01-02 00:00:00' AND \"open_dt\" < '2022-01-04 00:00:00'" in scenario.log[0]["params"]["sql"]


def test_ckan_500_then_success(serve, tmp_path):
    rows = csv_rows(BOSTON)
    scenario = Scenario(kind="ckan", records=[{k: v for k, v in r.items() if v} for r in rows],
                        fields=list(rows[0]), order="_id", plan={50: ["500"]})
    result = fetch("boston_311-service-requests", tmp_path / "b.parquet", base_url=serve(scenario),
                   resource_id="abc-123", page_size=50, **FAST)
    assert result.rows == 100 and offsets(scenario) == [0, 50, 50, 100]


def test_cli_fetch_with_progress_then_refuses_overwrite_and_explains_failures(serve, tmp_path):
    base = serve(nyc1k_scenario())
    runner = CliRunner()
    args = ["fetch", "new_york", "erm2-nwe9", "--base-url", base, "--out", str(tmp_path), "--page-size", "400",
            "--since", "2024-04-15", "--until", "2024-04-17", "--attempts", "2"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    dest = tmp_path / "nyc_erm2-nwe9_api_2024-04-15_2024-04-17.parquet"
    assert "fetched 1000 rows in 3 page(s)" in first.output and dest.exists()
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--force" in again.output
    failing = serve(nyc1k_scenario(plan={400: ["500"] * 5}))
    args_fail = ["fetch", "new_york", "erm2-nwe9", "--base-url", failing, "--out", str(tmp_path / "f"),
                 "--page-size", "400", "--attempts", "2", "--no-progress"]
    failed = runner.invoke(app, args_fail)
    text = " ".join(failed.output.split())
    assert failed.exit_code == 1 and "HTTP 500" in text and "rerun the same command to resume" in text
    unknown = runner.invoke(app, ["fetch", "new_york", "nope"])
    assert unknown.exit_code == 2 and "no mapping" in unknown.output
    export_only = runner.invoke(app, ["fetch", "san_francisco", "sf_bk8g-9b93_legacy", "--out", str(tmp_path)])
    assert export_only.exit_code == 1 and "exports only" in export_only.output
