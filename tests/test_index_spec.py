"""The 4G spec: it loads, its published weights match the report, and every impossible spec is a named error."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from hotlines import paths
from hotlines.index import CompositeIndex, SpecError, check_spec_quotes, load_inputs, load_spec, parse_spec


RAW = yaml.safe_load((paths.REPO_ROOT / "data" / "index_4g.yaml").read_text(encoding="utf-8"))


def raw_copy() -> dict:
    return copy.deepcopy(RAW)


def find(raw: dict, item_id: str) -> dict:
    for f in raw["indicators"]:
        if f["id"] == item_id:
            return f
        for s in f["children"]:
            if s["id"] == item_id:
                return s
            for t in s["children"]:
                if t["id"] == item_id:
                    return t
    raise KeyError(item_id)


def test_spec_loads_with_the_reports_structure_and_weights():
    spec = load_spec()
    assert (len(spec.first_level), len(spec.second_level), len(spec.third_level)) == (4, 10, 24)
    first = {i.id: i.weight for i in spec.first_level}
    assert first == {"process_governance": 20, "collaborative_governance": 25, "smart_governance": 30, "responsive_governance": 25}
    second = {i.id: i.weight for i in spec.second_level}
    assert second == {"appeal_acceptance": 10, "appeal_transfer": 10, "policy_collaboration": 5, "function_coordination": 10,
                      "platform_collaboration": 10, "data_governance": 10, "scenario_application": 10, "decision_support": 10,
                      "inclusive_service": 13, "overall_evaluation": 12}
    # published weights are not assumed; every third-level weight is, with a reason
    assert not any(i.weight_info.assumed for i in spec.first_level + spec.second_level)
    assert all(i.weight_info.assumed and i.weight_info.reason for i in spec.third_level)
    assert spec.item("adaptive_services").weight == pytest.approx(13 / 3)
    assert spec.item("waiting_time").direction == "lower" and spec.item("waiting_time").direction_assumed
    # the excluded indicators say why
    excluded = {i.id for i in spec.third_level if not i.include}
    assert excluded == {"scenario_services", "service_coverage", "agent_proficiency", "appeal_professionalism",
                        "appeal_effectiveness", "hotline_trust", "hotline_satisfaction"}
    assert all(spec.item(i).exclude_reason for i in excluded)


def test_entropy_option_carries_its_warning():
    spec = load_spec()
    assert "dispersion, not importance" in " ".join(spec.methods["weighting"]["options"]["entropy"]["warning"].split())


def test_spec_quote_check_says_plainly_when_seeds_are_absent(tmp_path, monkeypatch):
    spec = load_spec()
    monkeypatch.setenv("HOTLINES_SEEDS", str(tmp_path / "nowhere"))
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)  # hides ../shared/seeds
    quotes = check_spec_quotes(spec)
    assert quotes["found"].isna().all()
    assert "NOT checked" in quotes.attrs["note"]


# ---------------------------------------------------------------- impossible specs: named hard errors


def test_first_level_weights_not_summing_to_the_total_name_the_items():
    raw = raw_copy()
    find(raw, "smart_governance")["weight"]["value"] = 31
    find(raw, "data_governance")["weight"]["value"] = 11
    find(raw, "data_management")["weight"]["value"] = 6
    with pytest.raises(SpecError, match=r"first-level weights sum to 101 .*smart_governance 31.*total 100"):
        parse_spec(raw)


def test_second_level_weights_not_summing_name_the_parent():
    raw = raw_copy()
    find(raw, "appeal_acceptance")["weight"]["value"] = 9
    with pytest.raises(SpecError, match=r"second-level weights under 'process_governance' sum to 19.*declares 20"):
        parse_spec(raw)


def test_third_level_weights_not_summing_name_the_parent():
    raw = raw_copy()
    find(raw, "dispatch_manual")["weight"]["value"] = 4
    with pytest.raises(SpecError, match=r"third-level weights under 'appeal_transfer' sum to 9"):
        parse_spec(raw)


def test_duplicate_id_is_named():
    raw = raw_copy()
    find(raw, "dispatch_manual")["id"] = "appeal_traceability"
    with pytest.raises(SpecError, match=r"'appeal_traceability' is used twice"):
        parse_spec(raw)


@pytest.mark.parametrize("change, message", [
    (lambda r: find(r, "channel_diversity").update(type="categorical"), r"'channel_diversity': unknown type 'categorical'"),
    (lambda r: find(r, "data_openness").update(scale={"min": 0, "max": 5}), r"'data_openness': levels 0..4 do not match scale"),
    (lambda r: find(r, "waiting_time")["direction"].update(value="shorter"), r"'waiting_time': direction must be"),
    (lambda r: find(r, "hotline_trust")["rebuild"].pop("reason"), r"'hotline_trust': an excluded indicator needs rebuild.reason"),
    (lambda r: find(r, "call_answer_rate")["weight"].pop("reason"), r"'call_answer_rate': an assumed weight needs a 'reason'"),
    (lambda r: find(r, "appeal_transfer")["weight"].pop("quote"), r"'appeal_transfer': a published weight needs 'locator' and 'quote'"),
    (lambda r: r["methods"]["imputation"]["options"].update(knn={"description": "k nearest neighbours"}), r"methods.imputation declares unknown option"),
    (lambda r: r["methods"]["weighting"]["options"]["entropy"].pop("warning"), r"entropy must carry a 'warning'"),
    (lambda r: r["methods"]["normalisation"].update(default="robust"), r"default 'robust' is not one of its options"),
])
def test_each_impossible_spec_is_a_named_error(change, message):
    raw = raw_copy()
    change(raw)
    with pytest.raises(SpecError, match=message):
        parse_spec(raw)


def test_spec_file_errors_carry_the_file_name(tmp_path):
    raw = raw_copy()
    find(raw, "appeal_acceptance")["weight"]["value"] = 9
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError, match=r"^broken.yaml: second-level weights under 'process_governance'"):
        load_spec(path)


# ---------------------------------------------------------------- spec against data: named hard errors


@pytest.fixture(scope="module")
def spec_and_inputs():
    spec = load_spec()
    return spec, load_inputs(spec=spec)


def test_an_unknown_indicator_in_the_inputs_is_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    bad = inputs.copy()
    bad.loc[bad.index[0], "indicator"] = "call_pickup_speed"
    with pytest.raises(SpecError, match=r"unknown indicator\(s\) in the inputs: 'call_pickup_speed'"):
        CompositeIndex(spec, bad)


def test_a_city_missing_from_the_data_is_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    cities = list(pd.unique(inputs["city_id"])) + ["atlantis"]
    with pytest.raises(SpecError, match=r"city 'atlantis' is missing from the data"):
        CompositeIndex(spec, inputs, cities=cities)


def test_a_city_in_the_data_but_not_in_the_index_is_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    cities = [c for c in pd.unique(inputs["city_id"]) if c != "london"]
    with pytest.raises(SpecError, match=r"outside the index: 'london'"):
        CompositeIndex(spec, inputs, cities=cities)


def test_an_included_indicator_with_no_data_at_all_is_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    bad = inputs[inputs["indicator"] != "call_answer_rate"]
    with pytest.raises(SpecError, match=r"third-level indicator 'call_answer_rate' has no data at all"):
        CompositeIndex(spec, bad)


def test_an_indicator_without_spread_or_scale_is_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    bad = inputs.copy()
    bad.loc[bad["indicator"] == "waiting_time", "value"] = 20.0
    with pytest.raises(SpecError, match=r"'waiting_time' has 1 distinct value\(s\) and no declared scale"):
        CompositeIndex(spec, bad)


def test_two_used_values_for_one_cell_are_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    bad = pd.concat([inputs, inputs[inputs["used"]].head(1)], ignore_index=True)
    first = inputs[inputs["used"]].iloc[0]
    with pytest.raises(SpecError, match=rf"more than one used value for city '{first['city_id']}' and indicator '{first['indicator']}'"):
        CompositeIndex(spec, bad)


def test_unknown_setting_and_unknown_option_are_named(spec_and_inputs):
    spec, inputs = spec_and_inputs
    with pytest.raises(SpecError, match=r"unknown setting\(s\) \['imputatoin'\]"):
        CompositeIndex(spec, inputs, imputatoin="mean")
    with pytest.raises(SpecError, match=r"unknown normalisation 'robust'"):
        CompositeIndex(spec, inputs, normalisation="robust")
