"""The scale engine (hotlines.requests.engine): Kaplan–Meier from counts aggregated in
DuckDB or Spark equals lifelines; SYNTHETIC resamples; the survival CLI."""

from __future__ import annotations

import json
import math

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hotlines.requests import engine, survival, synthetic
from hotlines.requests.schema import durations
from hotlines.requests.survival_cli import app

from .test_requests_survival import HAND_DURATIONS, HAND_EVENTS, SF_10K, hand_km, nyc_1k, nyc_20k, sf_10k, sf_10k_valid

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # inside ibis 12

T0 = pd.Timestamp("2024-04-15 12:00:00", tz="UTC")
FLOATS = ["time_days", "survival", "ci_low", "ci_high"]


def assert_same_km(ours: pd.DataFrame, reference: pd.DataFrame, keys: list[str], tolerance: float = 1e-9) -> None:
    """Same rows, same counts, and survival and limits within ``tolerance``."""
    assert list(ours.columns) == list(reference.columns)
    assert len(ours) == len(reference)
    for name in keys:
        assert ours[name].astype("string").fillna("<NA>").tolist() == reference[name].astype("string").fillna("<NA>").tolist()
    for name in ("n_at_risk", "n_events", "n_censored"):
        assert ours[name].tolist() == reference[name].tolist(), name
    for name in FLOATS:
        np.testing.assert_allclose(ours[name].to_numpy(), reference[name].to_numpy(), rtol=0, atol=tolerance, err_msg=name)


def write_parquet(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path, index=False, coerce_timestamps="us")  # Spark reads microseconds, not nanoseconds
    return str(path)


# --------------------------------------------------------------------------- engine = lifelines


def test_engine_equals_lifelines_on_nyc_1k_by_agency_for_every_input_kind(tmp_path):
    frame = nyc_1k()
    reference = survival.kaplan_meier(frame, "agency")
    path = write_parquet(frame, tmp_path / "nyc.parquet")
    con = ibis.duckdb.connect()
    for source in (frame, path, [path]):
        assert_same_km(engine.kaplan_meier(source, "agency", backend=con), reference, ["agency"])
    # an ibis table runs where it is bound
    assert_same_km(engine.kaplan_meier(con.read_parquet(path), "agency"), reference, ["agency"])
    assert len(reference) == 867 and reference["agency"].nunique() == 11


@pytest.mark.parametrize(
    "load, by",
    [(sf_10k_valid, ["category"]), (nyc_20k, ["category"]), (nyc_1k, []), (nyc_1k, ["agency", "channel"])],
    ids=["sf-by-category", "nyc20k-by-category", "nyc1k-pooled", "nyc1k-agency-x-channel"],
)
def test_engine_equals_lifelines_on_real_samples(load, by):
    frame = load()
    ours = engine.kaplan_meier(frame, by)
    reference = survival.kaplan_meier(frame, by)
    assert_same_km(ours, reference, by)
    q_ours = engine.quantiles(ours, by)
    q_reference = survival.km_quantiles(frame, by)
    pd.testing.assert_frame_equal(q_ours, q_reference, check_exact=True, check_dtype=False)


def test_engine_reproduces_the_hand_computed_example():
    created = [T0] * 6
    frame = pd.DataFrame(
        {
            "created": created,
            "closed": [T0 + pd.Timedelta(days=d) if e else pd.NaT for d, e in zip(HAND_DURATIONS, HAND_EVENTS)],
            "is_closed": [bool(e) for e in HAND_EVENTS],
            # each open request's snapshot is where its follow-up ends
            "snapshot": [T0 + pd.Timedelta(days=d) for d in HAND_DURATIONS],
        }
    )
    table = engine.kaplan_meier(frame)
    expected = hand_km()
    assert table["n_at_risk"].tolist() == expected["n_at_risk"].tolist()
    for name in FLOATS:
        np.testing.assert_allclose(table[name], expected[name], rtol=0, atol=1e-12)
    medians = engine.quantiles(table, shares_closed=[0.5])
    assert medians["estimate_days"].item() == 2.0


record = st.tuples(
    st.sampled_from(["a", "b", "c", None]),  # group, missing included
    st.integers(0, 12),  # duration in half-seconds: many ties
    st.sampled_from(["closed", "open", "closed without date"]),
    st.integers(0, 30),  # creation offset in seconds for closed requests
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, min_size=1, max_size=80))
def test_engine_equals_lifelines_on_generated_records(rows):
    snapshot = T0 + pd.Timedelta(minutes=10)
    created, closed, is_closed = [], [], []
    for _, half_seconds, kind, offset in rows:
        duration = pd.Timedelta(milliseconds=500 * half_seconds)
        if kind == "closed":
            start = T0 + pd.Timedelta(seconds=offset)
            created.append(start)
            closed.append(start + duration)
            is_closed.append(True)
        else:  # open, or reported closed without a closing time: censored at the snapshot
            created.append(snapshot - duration)
            closed.append(pd.NaT)
            is_closed.append(kind == "closed without date")
    frame = pd.DataFrame(
        {
            "group": pd.Series([r[0] for r in rows], dtype="string"),
            "created": pd.Series(created, dtype="datetime64[ns, UTC]"),
            "closed": pd.Series(closed, dtype="datetime64[ns, UTC]"),
            "is_closed": pd.Series(is_closed, dtype="boolean"),
            "snapshot": snapshot,
        }
    )
    for by in ([], ["group"]):
        ours = engine.kaplan_meier(frame, by)
        reference = survival.kaplan_meier(frame, by)
        assert_same_km(ours, reference, by)
        assert int(ours["n_events"].sum()) == sum(r[2] == "closed" for r in rows)
        pd.testing.assert_frame_equal(engine.quantiles(ours, by), survival.km_quantiles(frame, by),
                                      check_exact=True, check_dtype=False)


def test_engine_refuses_records_closed_before_opened_naming_them():
    with pytest.raises(ValueError) as error:
        engine.kaplan_meier(sf_10k(), "category")
    message = str(error.value)
    assert "129 rows close before they open" in message and SF_10K.name in message and " row " in message


def test_engine_refuses_missing_columns_and_files(tmp_path):
    with pytest.raises(ValueError, match="lack columns: snapshot"):
        engine.kaplan_meier(nyc_1k().drop(columns="snapshot"))
    with pytest.raises(ValueError, match="lack columns: borough"):
        engine.kaplan_meier(nyc_1k(), "borough")
    with pytest.raises(FileNotFoundError, match="absent.parquet"):
        engine.kaplan_meier(tmp_path / "absent.parquet")


# --------------------------------------------------------------------------- Spark: the same expression


@pytest.fixture(scope="session")
def spark():
    session = engine.spark_session("local[1]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_and_duckdb_give_identical_tables_from_parquet(spark, tmp_path):
    path = write_parquet(nyc_1k(), tmp_path / "nyc.parquet")
    on_spark = engine.kaplan_meier(path, ["agency"], backend=spark)
    on_duckdb = engine.kaplan_meier(path, ["agency"], backend="duckdb")
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_exact=True)
    assert_same_km(on_spark, survival.kaplan_meier(nyc_1k(), "agency"), ["agency"])


def test_spark_and_duckdb_give_identical_tables_from_a_dataframe(spark):
    frame = sf_10k_valid()
    counts_spark = engine.event_counts(frame, ["channel"], backend=spark)
    counts_duckdb = engine.event_counts(frame, ["channel"], backend="duckdb")
    pd.testing.assert_frame_equal(counts_spark, counts_duckdb, check_exact=True)
    pd.testing.assert_frame_equal(engine.product_limit(counts_spark, ["channel"]),
                                  engine.kaplan_meier(frame, ["channel"]), check_exact=True)
    with pytest.raises(ValueError, match="129 rows close before they open"):
        engine.kaplan_meier(sf_10k(), ["channel"], backend=spark)


# --------------------------------------------------------------------------- SYNTHETIC resamples


def pooled_sample() -> pd.DataFrame:
    return pd.concat([nyc_1k(), sf_10k_valid()], ignore_index=True)


def test_synthetic_rows_keep_each_drawn_rows_duration_and_censoring():
    sample = pooled_sample()
    big = synthetic.resample(sample, 20_000, seed=7)
    assert len(big) == 20_000 and big["synthetic"].all()
    assert big["dataset"].str.startswith("SYNTHETIC:").all()
    assert big["request_id"].is_unique
    origin = sample.set_index(["source_file", "source_row"])
    drawn = origin.loc[list(zip(big["source_file"], big["source_row"]))].reset_index()
    before, after = durations(drawn), durations(big)
    np.testing.assert_array_equal(after["duration_days"].to_numpy(), before["duration_days"].to_numpy())
    np.testing.assert_array_equal(after["event"].to_numpy(), before["event"].to_numpy())
    assert (big["agency"].to_numpy() == drawn["agency"].to_numpy()).all()
    # new creation times, inside each source file's original range, in whole seconds
    assert (big["created"] != drawn["created"]).mean() > 0.9
    for name, part in big.groupby("source_file"):
        original = sample.loc[sample["source_file"] == name, "created"]
        assert part["created"].min() >= original.min() and part["created"].max() <= original.max()
    assert (big["created"].dt.microsecond == 0).all()


def test_synthetic_resampling_is_reproducible_bit_for_bit():
    sample = nyc_1k()
    first = synthetic.resample(sample, 3_000, seed=42)
    pd.testing.assert_frame_equal(first, synthetic.resample(sample, 3_000, seed=42))
    pd.testing.assert_frame_equal(first, synthetic.resample(sample, 3_000, seed=np.random.default_rng(42)))
    assert not first["created"].equals(synthetic.resample(sample, 3_000, seed=43)["created"])


def test_synthetic_parquet_is_labelled_and_never_overwritten(tmp_path):
    sample = pooled_sample()
    path = synthetic.write_parquet(sample, tmp_path / "synthetic.parquet", 25_000, seed=3, chunk_rows=10_000)
    note = synthetic.synthetic_metadata(path)
    assert note["label"].startswith("SYNTHETIC") and note["seed"] == 3 and note["n_rows"] == 25_000
    assert note["sources"] == {"new_york_nyc311_allagency_1k_2024-04-15.csv": 999,
                               "san_francisco_sf311_cases_sample10k_2008-2016.csv": 9871}
    assert json.loads(pq.read_schema(path).metadata[synthetic.METADATA_KEY])["label"] == synthetic.LABEL
    stored = pd.read_parquet(path)
    assert len(stored) == 25_000 and stored["synthetic"].all() and stored["dataset"].str.startswith("SYNTHETIC:").all()
    # the chunked file holds the same rows as the one-shot resample with the same chunks
    pd.testing.assert_frame_equal(
        stored[["request_id", "source_row"]],
        synthetic.resample(sample, 25_000, seed=3, chunk_rows=10_000)[["request_id", "source_row"]].astype(
            {"request_id": object, "source_row": "int64"}),
    )
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        synthetic.write_parquet(sample, path, 10, seed=4)
    assert path.read_bytes() == before
    assert synthetic.synthetic_metadata(write_parquet(sample, tmp_path / "real.parquet")) is None
    # the engine on the synthetic file equals lifelines on the same rows
    assert_same_km(engine.kaplan_meier(path, ["city", "agency"]), survival.kaplan_meier(stored, ["city", "agency"]),
                   ["city", "agency"])


def test_stretched_synthetic_durations_grow_by_whole_seconds_within_the_bound():
    sample = nyc_1k()
    plain = synthetic.resample(sample, 5_000, seed=9)
    stretched = synthetic.resample(sample, 5_000, seed=9, stretch_seconds=600)
    extra = durations(stretched)["duration_days"] - durations(plain)["duration_days"]
    extra_seconds = (extra * 86400).round(6)
    assert extra_seconds.between(0, 600).all() and (extra_seconds == extra_seconds.round()).all()
    assert extra_seconds.nunique() > 500
    np.testing.assert_array_equal(durations(stretched)["event"], durations(plain)["event"])
    assert (stretched["created"] == plain["created"]).all()


def test_count_table_order_is_the_same_by_composite_key_or_lexsort():
    rng = np.random.default_rng(3)
    duration = rng.integers(0, 50, 2_000)
    codes = [rng.integers(0, 4, 2_000), rng.integers(0, 7, 2_000)]
    composite = engine._Sorted._order(duration, codes, [5, 8])
    np.testing.assert_array_equal(composite, np.lexsort([duration, *reversed(codes)]))
    huge = duration * 2**57  # same order, but no room for a composite key: the lexsort path
    np.testing.assert_array_equal(engine._Sorted._order(huge, codes, [5, 8]), composite)


def test_synthetic_refuses_records_closed_before_opened():
    with pytest.raises(ValueError, match="129 rows close before they open"):
        synthetic.resample(sf_10k(), 10, seed=1)


# --------------------------------------------------------------------------- the CLI


def test_cli_writes_the_engine_table_and_prints_medians(tmp_path):
    path = write_parquet(nyc_1k(), tmp_path / "nyc.parquet")
    output, quantiles = tmp_path / "km.csv", tmp_path / "q.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["survival", path, "--by", "channel", "--output", str(output),
                                 "--quantiles", str(quantiles)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output)
    expected = engine.kaplan_meier(path, ["channel"])
    assert written["n_events"].tolist() == expected["n_events"].tolist()
    np.testing.assert_allclose(written["survival"], expected["survival"], rtol=1e-12)
    medians = pd.read_parquet(quantiles).query("share_closed == 0.5").set_index("channel")
    assert math.isinf(medians.loc["ONLINE", "estimate_days"])
    assert f"{medians.loc['MOBILE', 'estimate_days']:.3f}" in result.output
    assert "not reached" in result.output
    # an existing output is not overwritten without --overwrite
    again = runner.invoke(app, ["survival", path, "--output", str(output)])
    assert again.exit_code == 2 and "exists" in again.output
    assert pd.read_csv(output).equals(written)


def test_cli_reports_bad_records_and_missing_files(tmp_path):
    path = write_parquet(sf_10k(), tmp_path / "sf.parquet")
    runner = CliRunner()
    result = runner.invoke(app, ["survival", path, "--by", "category", "--output", str(tmp_path / "km.csv")])
    assert result.exit_code == 1
    assert "129 rows close before they open" in result.output and SF_10K.name in result.output
    assert not (tmp_path / "km.csv").exists()
    missing = runner.invoke(app, ["survival", str(tmp_path / "none.parquet"), "--output", str(tmp_path / "km.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output
