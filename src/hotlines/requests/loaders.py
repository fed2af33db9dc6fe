"""Request-record loaders: raw exports, and fetches from Socrata and CKAN portals.

Reading: :func:`read_raw` reads a raw CSV export or a fetched Parquet file as strings,
with its ``<file>.meta.json`` sidecar; :func:`read_export` turns it into canonical
records with quarantine (:func:`hotlines.requests.validate.validate_raw`).

Fetching: :func:`fetch` pages through a Socrata SODA endpoint (``$limit``/``$offset``
with a stable ``$order``, ``$where`` for a date range, optional app token) or a CKAN
``datastore_search`` (``datastore_search_sql`` for a date range), with retries and
exponential backoff on server errors, timeouts, broken connections and invalid JSON.

* **Resumable.** Each page is written, as it arrives, to ``<destination>.partial/``
  (one JSON file per page, itself written atomically). A rerun of the same query
  continues after the last complete page; a different query in that folder is refused.
* **Atomic.** The final Parquet and its sidecar are assembled inside the partial
  folder and moved into place with ``os.replace``: the destination folder never holds
  a half-written file. An existing result is never overwritten unless ``overwrite``.
  Pages are read back one at a time into the Parquet (one row group per page), so
  memory holds one page, whatever the size of the fetch.
* **Raw.** The Parquet holds the records as the portal published them (every value as
  text; nested values as JSON), so that validation can quarantine with raw values.
  The sidecar records the query, base URL, retrieval times (per page: each page's
  time is the censoring time of the open requests it holds), row count, sha256 of the
  Parquet and the mapping's name, version and sha256. An app token is never recorded.
* **Schema-checked.** Each page's field list (Socrata's ``X-SODA2-Fields`` header,
  CKAN's ``fields``) must hold every field of the mapping and equal the first page's;
  otherwise the fetch stops naming the field and caches nothing more.

>>> from hotlines.requests.loaders import read_export
>>> result = read_export("data/requests/raw/boston_311_sample100_2022-01.csv")  # doctest: +SKIP
>>> result.read, result.kept, result.quarantined  # doctest: +SKIP
(100, 100, 0)
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tenacity
from tqdm.auto import tqdm

from .mapping import Mapping, MappingError, detect_mapping, load_mapping
from .validate import ValidationResult, validate_raw

SIDECAR_SUFFIX = ".meta.json"
USER_AGENT = "hotlines-requests-loader/0.1 (research toolkit)"


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<file>.meta.json`` beside ``path``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- reading


@dataclass
class RawTable:
    """A raw table as published (every value text, blank where missing) and what its sidecar says.

    ``snapshot``: the censoring time, one UTC time or one per row (fetched files carry a
    time per page); None when no sidecar gives one. ``meta``: the sidecar, or None.
    """

    frame: pd.DataFrame
    path: Path
    snapshot: pd.Timestamp | pd.Series | None
    meta: dict | None

    @property
    def mapping_name(self) -> str | None:
        return (self.meta or {}).get("mapping", {}).get("name") if self.meta else None


def _snapshot_from_meta(meta: dict, rows: int, where: str) -> pd.Timestamp | pd.Series:
    pages = meta.get("pages")
    if pages:
        counts = [int(p["rows"]) for p in pages]
        if sum(counts) != rows:
            raise ValueError(f"{where}: the sidecar's pages hold {sum(counts)} rows but the file has {rows}")
        times = [pd.Timestamp(p["retrieved_at"]) for p in pages]
        return pd.Series([t for t, c in zip(times, counts) for _ in range(c)], dtype="datetime64[ns, UTC]")
    stamp = (meta.get("snapshot") or {}).get("utc")
    if not stamp:
        raise ValueError(f"{where}: the sidecar has no snapshot.utc")
    return pd.Timestamp(stamp).tz_convert("UTC")


def read_raw(path: str | os.PathLike) -> RawTable:
    """A raw CSV export or fetched Parquet file, every value as text ('' where missing).

    CSV is read strictly: a line with too many fields raises, naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path).astype("string").fillna("").astype(object)
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
            with open(path, newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a readable CSV export ({exc})") from exc
        # pandas renames blank and repeated headers ('Unnamed: 0', 'x.1'); keep the published ones when unique
        if len(header) == len(frame.columns) and len(set(header)) == len(header):
            frame.columns = header
    meta_file = sidecar_path(path)
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else None
    snapshot = _snapshot_from_meta(meta, len(frame), str(meta_file)) if meta else None
    if meta and "sha256" in meta and meta["sha256"] != sha256_file(path):
        raise ValueError(
            f"{path}: its sha256 differs from the one in {meta_file.name}: the file changed after it was "
            "recorded; restore it, or refetch it"
        )
    return RawTable(frame=frame, path=path, snapshot=snapshot, meta=meta)


def read_export(
    path: str | os.PathLike,
    mapping: Mapping | str | None = None,
    *,
    snapshot: pd.Timestamp | str | None = None,
) -> ValidationResult:
    """Canonical records and quarantine from a raw export or a fetched Parquet file.

    ``mapping``: a mapping (or its name); default the sidecar's, else the one mapping
    whose fields the file carries. ``snapshot``: the retrieval time (censoring time);
    default the sidecar's. Without either, raises and says what to give.
    """
    raw = read_raw(path)
    if mapping is None:
        mapping = raw.mapping_name or detect_mapping(raw.frame.columns, str(raw.path))
    mapping = load_mapping(mapping)
    if snapshot is not None:
        when = pd.Timestamp(snapshot)
        if when.tzinfo is None:
            raise ValueError(f"snapshot {snapshot!r} has no time zone: give it in UTC, e.g. 2024-04-16T07:03:15Z")
        snap = when.tz_convert("UTC")
    elif raw.snapshot is not None:
        snap = raw.snapshot
    else:
        raise ValueError(
            f"{raw.path}: no snapshot (retrieval time) is known: give snapshot= (--snapshot), the UTC time the "
            f"file was downloaded, or write a sidecar {sidecar_path(raw.path).name} with snapshot.utc"
        )
    return validate_raw(raw.frame, mapping, source_file=raw.path.name, snapshot=snap)


# ---------------------------------------------------------------- fetching


class FetchError(RuntimeError):
    """A fetch could not complete; the message says what to do."""


class SchemaChangedError(FetchError, MappingError):
    """The server's fields no longer match the mapping."""


class _Retryable(Exception):
    """A failure worth another attempt (5xx, 408, 429, timeout, broken connection, invalid JSON)."""


@dataclass(frozen=True)
class Page:
    records: list[dict]
    fields: list[str] | None


@dataclass
class FetchResult:
    """A completed fetch: the Parquet, its sidecar, rows, sha256, pages (and how many were resumed)."""

    path: Path
    sidecar: Path
    rows: int
    sha256: str
    pages: int
    resumed_pages: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}])


def _local_literal(value, fmt: str) -> str:
    """A date or datetime as a naive local-time literal (portals store naive local times)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        raise ValueError(f"{value!r}: give local (naive) times; the portal stores the city's local time")
    return stamp.strftime(fmt)


class SocrataSource:
    """A Socrata SODA 2 endpoint ``<base_url>/resource/<dataset_id>.json``."""

    def __init__(self, mapping: Mapping, *, since=None, until=None, base_url: str | None = None,
                 app_token: str | None = None):
        api = mapping.api or {}
        if api.get("portal") != "socrata":
            raise ValueError(f"mapping {mapping.name} is not a Socrata dataset")
        self.mapping = mapping
        self.base_url = (base_url or api["base_url"]).rstrip("/")
        self.url = f"{self.base_url}/resource/{api['dataset_id']}.json"
        self.order = api["order"]
        date_field = api["date_field"]
        clauses = []
        if since is not None:
            clauses.append(f"{date_field} >= '{_local_literal(since, '%Y-%m-%dT%H:%M:%S')}'")
        if until is not None:
            clauses.append(f"{date_field} < '{_local_literal(until, '%Y-%m-%dT%H:%M:%S')}'")
        self.where = " AND ".join(clauses) or None
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if app_token:
            self.headers["X-App-Token"] = app_token
        self.app_token_used = bool(app_token)

    def identity(self) -> dict:
        query = {"$order": self.order}
        if self.where:
            query["$where"] = self.where
        return {"portal": "socrata", "base_url": self.base_url, "endpoint": self.url, "query": query}

    def count_request(self) -> tuple[str, dict]:
        params = {"$select": "count(*)"}
        if self.where:
            params["$where"] = self.where
        return self.url, params

    @staticmethod
    def parse_count(body) -> int:
        return int(next(iter(body[0].values())))

    def page_request(self, offset: int, limit: int) -> tuple[str, dict]:
        params = {"$order": self.order, "$limit": str(limit), "$offset": str(offset)}
        if self.where:
            params["$where"] = self.where
        return self.url, params

    @staticmethod
    def parse_page(response: httpx.Response, body) -> Page:
        if not isinstance(body, list):
            raise _Retryable(f"expected a JSON array of records, got {type(body).__name__}")
        header = response.headers.get("X-SODA2-Fields")
        fields = None
        if header:
            try:
                fields = [str(f) for f in json.loads(header)]
            except ValueError:
                fields = None
        return Page(records=body, fields=fields)


class CkanSource:
    """A CKAN datastore resource: ``datastore_search``, or ``datastore_search_sql`` for a date range."""

    _RESOURCE = re.compile(r"^[A-Za-z0-9_-]+$")

    def __init__(self, mapping: Mapping, *, resource_id: str | None = None, since=None, until=None,
                 base_url: str | None = None):
        api = mapping.api or {}
        if api.get("portal") != "ckan":
            raise ValueError(f"mapping {mapping.name} is not a CKAN dataset")
        resource_id = resource_id or api.get("resource_id")
        if not resource_id:
            raise FetchError(
                f"{mapping.title}: the portal publishes one datastore resource per period; give its resource id "
                f"(--resource-id), shown on the dataset page of {api['base_url']} under the resource's 'Data API'"
            )
        if not self._RESOURCE.match(resource_id):
            raise ValueError(f"resource id {resource_id!r} is not a CKAN resource id")
        self.mapping = mapping
        self.base_url = (base_url or api["base_url"]).rstrip("/")
        self.resource_id = resource_id
        self.order = api["order"]
        date_field = api["date_field"]
        clauses = []
        if since is not None:
            clauses.append(f"\"{date_field}\" >= '{_local_literal(since, '%Y-%m-%d %H:%M:%S')}'")
        if until is not None:
            clauses.append(f"\"{date_field}\" < '{_local_literal(until, '%Y-%m-%d %H:%M:%S')}'")
        self.where = " AND ".join(clauses) or None
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self.app_token_used = False

    def identity(self) -> dict:
        query = {"resource_id": self.resource_id, "sort": f"{self.order} asc"}
        if self.where:
            query["where"] = self.where
        return {"portal": "ckan", "base_url": self.base_url, "endpoint": self._endpoint(), "query": query}

    def _endpoint(self) -> str:
        action = "datastore_search_sql" if self.where else "datastore_search"
        return f"{self.base_url}/api/3/action/{action}"

    def count_request(self) -> tuple[str, dict]:
        if self.where:
            sql = f'SELECT COUNT(*) AS count FROM "{self.resource_id}" WHERE {self.where}'
            return self._endpoint(), {"sql": sql}
        return self._endpoint(), {"resource_id": self.resource_id, "limit": "0"}

    @staticmethod
    def parse_count(body) -> int:
        result = body["result"]
        if "total" in result:
            return int(result["total"])
        return int(result["records"][0]["count"])

    def page_request(self, offset: int, limit: int) -> tuple[str, dict]:
        if self.where:
            sql = (f'SELECT * FROM "{self.resource_id}" WHERE {self.where} '
                   f'ORDER BY "{self.order}" LIMIT {limit} OFFSET {offset}')
            return self._endpoint(), {"sql": sql}
        return self._endpoint(), {"resource_id": self.resource_id, "limit": str(limit), "offset": str(offset),
                                  "sort": f"{self.order} asc"}

    @staticmethod
    def parse_page(response: httpx.Response, body) -> Page:
        if not isinstance(body, dict) or not body.get("success") or "result" not in body:
            raise _Retryable("expected a CKAN action response with success true")
        result = body["result"]
        # _full_text is the datastore's search index, not a published field
        fields = [f["id"] for f in result.get("fields", []) if f.get("id") != "_full_text"]
        records = [{k: v for k, v in r.items() if k != "_full_text"} for r in result.get("records", [])]
        return Page(records=records, fields=fields or None)


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return "; ".join(f"{k}: {v}" for k, v in error.items())
        return str(body.get("message") or error or body)[:300]
    return str(body)[:300]


class _Client:
    """httpx with tenacity: exponential backoff on what may pass, clear errors on what will not."""

    def __init__(self, source, *, timeout: float, max_attempts: int, backoff_initial: float, backoff_max: float,
                 transport: httpx.BaseTransport | None = None):
        self.source = source
        self.http = httpx.Client(timeout=timeout, headers=source.headers, follow_redirects=True, transport=transport)
        self.max_attempts = max_attempts
        self.wait = tenacity.wait_exponential(multiplier=backoff_initial, max=backoff_max)
        self.timeout = timeout

    def close(self) -> None:
        self.http.close()

    def _once(self, url: str, params: dict, parse):
        try:
            response = self.http.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"no answer within {self.timeout} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise _Retryable(f"HTTP {response.status_code} {_server_message(response)}")
        if response.status_code >= 400:
            message = _server_message(response)
            if re.search(r"no[- ]such[- ]column|column .* does not exist|not.found.*field", message, re.I):
                raise SchemaChangedError(
                    f"{url}: the server rejects a field the mapping '{self.source.mapping.name}' uses "
                    f"(HTTP {response.status_code}: {message}); update the mapping file if the publisher renamed it"
                )
            raise FetchError(f"{url} with {params}: HTTP {response.status_code}: {message}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _Retryable(f"the response is not valid JSON (truncated?): {exc}") from exc
        return parse(response, body)

    def get(self, url: str, params: dict, parse, what: str, attempts: int | None = None):
        attempts = attempts or self.max_attempts
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            wait=self.wait,
            stop=tenacity.stop_after_attempt(attempts),
            reraise=True,
        )
        try:
            return retrying(self._once, url, params, parse)
        except _Retryable as exc:
            raise FetchError(f"{what} from {url}: {exc}; gave up after {attempts} attempt(s)") from exc


def _check_fields(mapping: Mapping, page: Page, first_fields: list[str] | None, where: str) -> None:
    if page.fields is not None:
        try:
            mapping.resolve(page.fields, where, require_optional=True)
        except MappingError as exc:
            raise SchemaChangedError(f"{exc} Nothing from this page was stored.") from exc
        if first_fields is not None and page.fields != first_fields:
            gone = [f for f in first_fields if f not in page.fields]
            new = [f for f in page.fields if f not in first_fields]
            raise SchemaChangedError(
                f"{where}: the fields changed during the fetch (gone: {gone}, new: {new}); "
                "the stored pages no longer match: delete the partial folder and fetch again"
            )
    elif page.records:
        keys = {k for r in page.records for k in r}
        key_fields = {c: mapping.fields[c] for c in ("request_id", "created")}
        for canonical, alternatives in key_fields.items():
            if not any(a in keys for a in alternatives):
                raise SchemaChangedError(
                    f"{where}: no record carries the field {' or '.join(alternatives)} (canonical '{canonical}') "
                    f"of mapping '{mapping.name}'; update the mapping file if the publisher renamed it"
                )


def fetch(
    mapping: Mapping | str,
    destination: str | os.PathLike,
    *,
    since=None,
    until=None,
    page_size: int = 50_000,
    max_rows: int | None = None,
    app_token: str | None = None,
    resource_id: str | None = None,
    base_url: str | None = None,
    timeout: float = 60.0,
    max_attempts: int = 6,
    backoff_initial: float = 1.0,
    backoff_max: float = 60.0,
    overwrite: bool = False,
    progress: bool = True,
    on_page: Callable[[int, int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FetchResult:
    """Fetch a dataset's records into ``destination`` (a ``.parquet`` path) with its sidecar.

    ``since``/``until``: a half-open range ``[since, until)`` of creation times, in the
    city's local time (portals store naive local times). ``page_size`` rows per
    request, ``max_rows`` at most in all. ``base_url`` replaces the mapping's (a
    mirror, or a local test server). ``on_page(page_index, rows_so_far)`` is called
    after each page is stored. Returns a :class:`FetchResult`.

    >>> fetch("nyc_erm2-nwe9_api", "cache/nyc_2024-04-15.parquet", since="2024-04-15",
    ...       until="2024-04-16", page_size=10_000)  # doctest: +SKIP
    """
    mapping = load_mapping(mapping)
    if page_size < 1 or (max_rows is not None and max_rows < 1):
        raise ValueError("page_size and max_rows must be positive")
    destination = Path(destination)
    if destination.suffix != ".parquet":
        raise ValueError(f"{destination}: the destination must be a .parquet file")
    if mapping.portal == "socrata":
        source = SocrataSource(mapping, since=since, until=until, base_url=base_url, app_token=app_token)
    elif mapping.portal == "ckan":
        source = CkanSource(mapping, resource_id=resource_id, since=since, until=until, base_url=base_url)
    else:
        raise FetchError(f"mapping {mapping.name} describes exports only (no API); read its files with read_export")

    meta_path = sidecar_path(destination)
    partial = destination.with_name(destination.name + ".partial")
    identity = {
        **source.identity(),
        "page_size": page_size,
        "max_rows": max_rows,
        "mapping": {"name": mapping.name, "version": mapping.version, "sha256": mapping.sha256},
    }
    if destination.exists() and not overwrite:
        if meta_path.exists():
            raise FetchError(
                f"{destination} already exists (fetched {json.loads(meta_path.read_text())['retrieved_at']}); "
                "nothing was overwritten: pass overwrite=True (--force) to fetch it again, or choose another name"
            )
        if not partial.is_dir():
            raise FetchError(
                f"{destination} exists without its sidecar {meta_path.name} and was not written by an "
                "unfinished fetch; nothing was overwritten: move it away or pass overwrite=True (--force)"
            )
    destination.parent.mkdir(parents=True, exist_ok=True)

    query_file = partial / "query.json"
    pages_done: list[dict] = []
    if partial.is_dir() and query_file.is_file():
        stored = json.loads(query_file.read_text(encoding="utf-8"))
        if stored != identity:
            raise FetchError(
                f"{partial} holds pages of a different query ({stored.get('query')}, page size "
                f"{stored.get('page_size')}, mapping {stored.get('mapping')}); delete that folder to start over, "
                "or choose another destination"
            )
        index = 0
        while (partial / f"page-{index:06d}.json").is_file():
            stored_page = json.loads((partial / f"page-{index:06d}.json").read_text(encoding="utf-8"))
            pages_done.append(_summary(stored_page))
            index += 1
    resumed = len(pages_done)
    created_partial = False

    client = _Client(source, timeout=timeout, max_attempts=max_attempts, backoff_initial=backoff_initial,
                     backoff_max=backoff_max, transport=transport)
    try:
        rows_so_far = sum(p["rows"] for p in pages_done)
        finished = bool(pages_done) and (
            pages_done[-1]["limit"] > pages_done[-1]["rows"]
            or (max_rows is not None and rows_so_far >= max_rows)
        )
        total = None
        if not finished and progress:
            url, params = source.count_request()
            try:
                total = client.get(url, params, lambda r, b: source.parse_count(b), "the row count", attempts=1)
            except (FetchError, LookupError, TypeError, ValueError):
                total = None  # the count only sizes the progress bar
            if total is not None and max_rows is not None:
                total = min(total, max_rows)
        first_fields = pages_done[0]["fields"] if pages_done else None
        with tqdm(total=total, initial=rows_so_far, unit="rows", disable=not progress,
                  desc=f"{mapping.name}") as bar:
            while not finished:
                limit = page_size if max_rows is None else min(page_size, max_rows - rows_so_far)
                index = len(pages_done)
                url, params = source.page_request(rows_so_far, limit)
                where = f"{url} (offset {rows_so_far})"
                page = client.get(url, params, source.parse_page, f"page {index} (offset {rows_so_far})")
                _check_fields(mapping, page, first_fields, where)
                if first_fields is None:
                    first_fields = page.fields
                record = {
                    "index": index, "offset": rows_so_far, "limit": limit, "retrieved_at": _now(),
                    "fields": page.fields, "records": page.records,
                }
                if not created_partial and not partial.is_dir():
                    partial.mkdir(parents=True)
                    created_partial = True
                if not query_file.is_file():
                    _atomic_write_bytes(query_file, json.dumps(identity, indent=1, sort_keys=True).encode())
                _atomic_write_bytes(partial / f"page-{index:06d}.json",
                                    json.dumps(record, ensure_ascii=False).encode("utf-8"))
                pages_done.append(_summary(record))
                rows_so_far += len(page.records)
                bar.update(len(page.records))
                if on_page is not None:
                    on_page(index, rows_so_far)
                finished = len(page.records) < limit or (max_rows is not None and rows_so_far >= max_rows)
    except BaseException:
        if created_partial and not any(partial.glob("page-*.json")):
            shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        client.close()

    return _finalise(mapping, source, identity, destination, meta_path, partial, pages_done, resumed, overwrite)


def _summary(page: dict) -> dict:
    """What is kept in memory of a stored page: never its records."""
    keys: dict[str, None] = {}
    for record in page["records"]:
        keys.update(dict.fromkeys(record))
    return {"index": page["index"], "offset": page["offset"], "limit": page["limit"], "rows": len(page["records"]),
            "retrieved_at": page["retrieved_at"], "fields": page["fields"], "keys": list(keys)}


def _finalise(mapping, source, identity, destination: Path, meta_path: Path, partial: Path,
              pages: list[dict], resumed: int, overwrite: bool) -> FetchResult:
    # columns: the server's field list, then any key it did not list, in order of appearance
    fields = list(pages[0]["fields"] or [])
    for page in pages:
        fields.extend(k for k in page["keys"] if k not in fields)
    schema = pa.schema([(f, pa.string()) for f in fields])
    tmp_parquet = partial / "result.parquet"
    rows = 0
    # one row group per page, read back from disk one at a time: memory stays at one page
    with pq.ParquetWriter(tmp_parquet, schema) as writer:
        for page in pages:
            stored = json.loads((partial / f"page-{page['index']:06d}.json").read_text(encoding="utf-8"))
            columns = {f: [_as_text(r.get(f)) for r in stored["records"]] for f in fields}
            writer.write_table(pa.table(columns, schema=schema))
            rows += len(stored["records"])
    with open(tmp_parquet, "rb") as handle:
        os.fsync(handle.fileno())
    digest = sha256_file(tmp_parquet)

    if destination.exists() and not meta_path.exists() and not overwrite:
        # an earlier run stopped between the two renames: finish it if the file is this result
        if sha256_file(destination) != digest:
            raise FetchError(f"{destination} exists and differs from this fetch; nothing was overwritten")
    meta = {
        "file": destination.name,
        "rows": rows,
        "sha256": digest,
        "portal": identity["portal"],
        "base_url": identity["base_url"],
        "endpoint": identity["endpoint"],
        "query": identity["query"],
        "page_size": identity["page_size"],
        "max_rows": identity["max_rows"],
        "app_token_used": source.app_token_used,
        "retrieved_at": pages[0]["retrieved_at"],
        "retrieval_finished_at": pages[-1]["retrieved_at"],
        "pages": [{"offset": p["offset"], "rows": p["rows"], "retrieved_at": p["retrieved_at"]} for p in pages],
        "snapshot": {
            "utc": pages[0]["retrieved_at"],
            "status": "recorded",
            "basis": "each row's censoring time is the time its page was received (pages[].retrieved_at); "
                     "utc is the first page's",
        },
        "mapping": identity["mapping"],
        "publisher": mapping.publisher,
        "title": mapping.title,
        "content": "raw records as published, every value as text (nested values as JSON)",
    }
    tmp_meta = partial / "result.meta.json"
    tmp_meta.write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp_parquet, destination)
    os.replace(tmp_meta, meta_path)
    shutil.rmtree(partial, ignore_errors=True)
    return FetchResult(path=destination, sidecar=meta_path, rows=rows, sha256=digest, pages=len(pages),
                       resumed_pages=resumed)
