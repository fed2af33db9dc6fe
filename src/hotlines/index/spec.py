"""The declarative specification of a composite index (``data/index_4g.yaml``).

The spec is a tree: first-level indicators hold second-level ones, which hold the
third-level indicators that carry data. Every weight says whether it is published
(with locator and quote) or assumed (with the reason). :func:`load_spec` reads the
YAML and checks it; anything impossible is a :class:`SpecError` naming the item:
weights that do not sum to their parent's declared weight, a duplicated or unknown
id, an unknown type, direction or method, levels that do not match the scale.

>>> spec = load_spec()
>>> len(spec.first_level), len(spec.second_level), len(spec.third_level)
(4, 10, 24)
>>> spec.item("call_answer_rate").weight
5.0
>>> spec.item("process_governance").weight
20.0
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from ..data.seeds import SeedText

TYPES = ("binary", "ordinal", "continuous")
DIRECTIONS = ("higher", "lower")
METHOD_KINDS = ("normalisation", "imputation", "aggregation", "weighting", "excluded_weight", "lower_bounds")
#: The method options the code implements; the spec must describe exactly these.
METHOD_OPTIONS = {
    "normalisation": ("minmax", "minmax_scale", "zscore", "rank"),
    "imputation": ("mean", "median", "worst", "none"),
    "aggregation": ("weighted_sum", "geometric"),
    "weighting": ("published", "equal", "entropy"),
    "excluded_weight": ("redistribute", "drop"),
    "lower_bounds": ("as_value", "floor", "missing"),
}
TOLERANCE = 1e-9
SPEC_FILE = "index_4g.yaml"


class SpecError(ValueError):
    """An impossible index specification or input: the message names the item at fault."""


@dataclass(frozen=True)
class Weight:
    value: float
    assumed: bool
    reason: str = ""
    locator: str = ""
    quote: str = ""


@dataclass(frozen=True)
class Item:
    """One indicator of the tree, at any level."""

    id: str
    name: str
    level: int  # 1, 2 or 3
    weight: float
    weight_info: Weight
    parent: str | None = None
    children: tuple[str, ...] = ()
    # third level only
    definition: str = ""
    locator: str = ""
    type: str = ""
    unit: str = ""
    levels: dict[int, str] = field(default_factory=dict)
    levels_assumed: bool = False
    levels_reason: str = ""
    scale_min: float | None = None
    scale_max: float | None = None
    direction: str = "higher"
    direction_assumed: bool = False
    direction_reason: str = ""
    include: bool = True
    exclude_reason: str = ""
    note: str = ""

    @property
    def has_scale(self) -> bool:
        return self.scale_min is not None and self.scale_max is not None

    @property
    def worst(self) -> float | None:
        """For 'worst' imputation: the worst level of a binary or ordinal item ('not mentioned'
        read as 'not present'); None for a continuous item, whose worst observed value is used
        (a rate nobody reports is not a rate of zero)."""
        if self.type == "binary":
            return 0.0
        if self.type != "ordinal":
            return None
        return self.scale_min if self.direction == "higher" else self.scale_max


@dataclass(frozen=True)
class IndexSpec:
    name: str
    source_id: str
    seed_file: str
    total: float
    cities: str
    items: dict[str, Item]
    methods: dict
    inputs: dict
    path: Path | None = None
    quotes: tuple[tuple[str, str, str], ...] = ()  # (where, locator, quote) for the seed check

    def item(self, item_id: str) -> Item:
        try:
            return self.items[item_id]
        except KeyError:
            raise SpecError(f"unknown indicator {item_id!r}: not in the spec {self.name!r}") from None

    def _level(self, level: int) -> list[Item]:
        return [i for i in self.items.values() if i.level == level]

    @property
    def first_level(self) -> list[Item]:
        return self._level(1)

    @property
    def second_level(self) -> list[Item]:
        return self._level(2)

    @property
    def third_level(self) -> list[Item]:
        return self._level(3)

    @property
    def included(self) -> list[Item]:
        """Third-level indicators that enter the rebuild."""
        return [i for i in self.third_level if i.include]

    def first_of(self, third_id: str) -> str:
        return self.item(self.item(third_id).parent).parent

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator of every level: id, level, parent, weight, assumed, type, direction, include, ..."""
        rows = []
        for i in self.items.values():
            rows.append({
                "id": i.id, "name": i.name, "level": i.level, "parent": i.parent, "weight": i.weight,
                "weight_assumed": i.weight_info.assumed, "type": i.type or None, "direction": i.direction if i.level == 3 else None,
                "direction_assumed": i.direction_assumed if i.level == 3 else None,
                "scale_min": i.scale_min, "scale_max": i.scale_max,
                "include": i.include if i.level == 3 else None, "exclude_reason": i.exclude_reason or None,
                "locator": i.locator or i.weight_info.locator or None,
            })
        return pd.DataFrame(rows)


# ---------------------------------------------------------------- parsing


def _number(value, where: str) -> float:
    if isinstance(value, bool):
        raise SpecError(f"{where}: weight {value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*/\s*\d+\s*", value):
        return float(Fraction(value.replace(" ", "")))
    raise SpecError(f"{where}: weight {value!r} is not a number or a fraction like '13/3'")


def _weight(raw, where: str) -> Weight:
    if not isinstance(raw, dict) or "value" not in raw:
        raise SpecError(f"{where}: 'weight' must be a mapping with 'value' and 'assumed'")
    if "assumed" not in raw or not isinstance(raw["assumed"], bool):
        raise SpecError(f"{where}: weight must say 'assumed: true' or 'assumed: false'")
    w = Weight(_number(raw["value"], where), raw["assumed"], str(raw.get("reason", "")),
               str(raw.get("locator", "")), str(raw.get("quote", "")))
    if w.value < 0:
        raise SpecError(f"{where}: weight {w.value} is negative")
    if w.assumed and not w.reason:
        raise SpecError(f"{where}: an assumed weight needs a 'reason'")
    if not w.assumed and not (w.locator and w.quote):
        raise SpecError(f"{where}: a published weight needs 'locator' and 'quote'")
    return w


def _third(raw: dict, parent: str, where: str) -> Item:
    for key in ("id", "name", "definition", "locator", "type", "direction", "weight"):
        if key not in raw:
            raise SpecError(f"{where}: third-level indicator lacks {key!r}")
    item_id = raw["id"]
    where = f"third-level indicator {item_id!r}"
    kind = raw["type"]
    if kind not in TYPES:
        raise SpecError(f"{where}: unknown type {kind!r} (known: {', '.join(TYPES)})")
    direction = raw["direction"]
    if not isinstance(direction, dict) or direction.get("value") not in DIRECTIONS or not isinstance(direction.get("assumed"), bool):
        raise SpecError(f"{where}: direction must be {{value: higher|lower, assumed: true|false, reason: ...}}")
    scale = raw.get("scale")
    scale_min = scale_max = None
    if kind == "binary":
        scale_min, scale_max = 0.0, 1.0
    elif scale is not None:
        if not isinstance(scale, dict) or set(scale) != {"min", "max"}:
            raise SpecError(f"{where}: scale must be {{min: .., max: ..}} or null")
        scale_min, scale_max = float(scale["min"]), float(scale["max"])
        if not scale_max > scale_min:
            raise SpecError(f"{where}: scale max {scale_max} is not above min {scale_min}")
    levels = {}
    if kind == "ordinal":
        if not raw.get("levels"):
            raise SpecError(f"{where}: an ordinal indicator needs 'levels'")
        levels = {int(k): str(v) for k, v in raw["levels"].items()}
        if scale_min is None or min(levels) != scale_min or max(levels) != scale_max:
            raise SpecError(f"{where}: levels {min(levels)}..{max(levels)} do not match scale {scale_min}..{scale_max}")
        if raw.get("levels_assumed") and not raw.get("levels_reason"):
            raise SpecError(f"{where}: assumed levels need 'levels_reason'")
    rebuild = raw.get("rebuild") or {"include": True}
    if not isinstance(rebuild.get("include"), bool):
        raise SpecError(f"{where}: rebuild.include must be true or false")
    if not rebuild["include"] and not rebuild.get("reason"):
        raise SpecError(f"{where}: an excluded indicator needs rebuild.reason")
    w = _weight(raw["weight"], where)
    return Item(
        id=item_id, name=raw["name"], level=3, weight=w.value, weight_info=w, parent=parent,
        definition=raw["definition"], locator=raw["locator"], type=kind, unit=str(raw.get("unit", "")),
        levels=levels, levels_assumed=bool(raw.get("levels_assumed", False)), levels_reason=str(raw.get("levels_reason", "")),
        scale_min=scale_min, scale_max=scale_max, direction=direction["value"], direction_assumed=direction["assumed"],
        direction_reason=str(direction.get("reason", "")), include=rebuild["include"], exclude_reason=str(rebuild.get("reason", "")),
        note=str(raw.get("note", "")),
    )


def parse_spec(raw: dict, path: Path | None = None) -> IndexSpec:
    """Build and check an :class:`IndexSpec` from the parsed YAML mapping."""
    where = str(path) if path else "spec"
    for key in ("name", "total", "indicators", "methods"):
        if key not in raw:
            raise SpecError(f"{where}: missing top-level key {key!r}")
    items: dict[str, Item] = {}
    quotes: list[tuple[str, str, str]] = []

    def register(item: Item):
        if item.id in items:
            raise SpecError(f"{where}: indicator id {item.id!r} is used twice")
        items[item.id] = item

    for block in ("structure", "first_level_weights_source", "third_level_weights"):
        if isinstance(raw.get(block), dict) and raw[block].get("quote"):
            quotes.append((block, raw[block]["locator"], raw[block]["quote"]))

    first_ids = []
    for f in raw["indicators"]:
        fw = _weight(f.get("weight"), f"first-level indicator {f.get('id')!r}")
        second_ids = []
        for s in f.get("children") or []:
            sw = _weight(s.get("weight"), f"second-level indicator {s.get('id')!r}")
            third_ids = []
            for t in s.get("children") or []:
                item = _third(t, s["id"], f"third-level indicator {t.get('id')!r}")
                register(item)
                third_ids.append(item.id)
                quotes.append((f"{item.id}.definition", item.locator, item.definition))
                if not item.weight_info.assumed:
                    quotes.append((f"{item.id}.weight", item.weight_info.locator, item.weight_info.quote))
            if not third_ids:
                raise SpecError(f"second-level indicator {s['id']!r} has no third-level indicators")
            register(Item(id=s["id"], name=s["name"], level=2, weight=sw.value, weight_info=sw, parent=f["id"], children=tuple(third_ids)))
            if not sw.assumed:
                quotes.append((f"{s['id']}.weight", sw.locator, sw.quote))
            second_ids.append(s["id"])
        if not second_ids:
            raise SpecError(f"first-level indicator {f['id']!r} has no second-level indicators")
        register(Item(id=f["id"], name=f["name"], level=1, weight=fw.value, weight_info=fw, children=tuple(second_ids)))
        if not fw.assumed:
            quotes.append((f"{f['id']}.weight", fw.locator, fw.quote))
        first_ids.append(f["id"])

    for key, block in raw["methods"].items():
        for name, desc in ((block or {}).get("options") or {}).items():
            if isinstance(desc, dict) and desc.get("quote"):
                quotes.append((f"methods.{key}.{name}", desc["locator"], desc["quote"]))
    spec = IndexSpec(name=raw["name"], source_id=str(raw.get("source_id", "")), seed_file=str(raw.get("seed_file", "")),
                     total=float(raw["total"]), cities=str(raw.get("cities", "in_4g_2024")), items=items,
                     methods=raw["methods"], inputs=raw.get("inputs") or {}, path=path, quotes=tuple(quotes))
    _check_sums(spec)
    _check_methods(spec, where)
    return spec


def _check_sums(spec: IndexSpec) -> None:
    firsts = spec.first_level
    total = sum(i.weight for i in firsts)
    if abs(total - spec.total) > TOLERANCE:
        parts = " + ".join(f"{i.id} {i.weight:g}" for i in firsts)
        raise SpecError(f"first-level weights sum to {total:g} ({parts}), but the spec declares total {spec.total:g}")
    for parent in firsts + spec.second_level:
        kids = [spec.items[c] for c in parent.children]
        s = sum(k.weight for k in kids)
        if abs(s - parent.weight) > 1e-6:
            label = "second" if parent.level == 1 else "third"
            parts = " + ".join(f"{k.id} {k.weight:g}" for k in kids)
            raise SpecError(f"{label}-level weights under {parent.id!r} sum to {s:g} ({parts}), "
                            f"but {parent.id!r} declares {parent.weight:g}")


def _check_methods(spec: IndexSpec, where: str) -> None:
    for kind in METHOD_KINDS:
        block = spec.methods.get(kind)
        if not isinstance(block, dict) or "options" not in block or "default" not in block:
            raise SpecError(f"{where}: methods.{kind} needs 'default' and 'options'")
        declared = set(block["options"])
        known = set(METHOD_OPTIONS[kind])
        if declared - known:
            raise SpecError(f"{where}: methods.{kind} declares unknown option(s) {sorted(declared - known)} "
                            f"(implemented: {', '.join(METHOD_OPTIONS[kind])})")
        if block["default"] not in declared:
            raise SpecError(f"{where}: methods.{kind}.default {block['default']!r} is not one of its options")
    warning = spec.methods["weighting"]["options"].get("entropy", {})
    if "entropy" in spec.methods["weighting"]["options"] and not (isinstance(warning, dict) and warning.get("warning")):
        raise SpecError(f"{where}: methods.weighting.entropy must carry a 'warning' (entropy rewards dispersion, not importance)")


def load_spec(path: str | os.PathLike | None = None) -> IndexSpec:
    """Read and check the index spec (default: ``data/index_4g.yaml``)."""
    path = Path(path) if path else paths.data_dir() / SPEC_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: index spec not found")
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        return parse_spec(raw, path)
    except SpecError as exc:
        raise SpecError(f"{path.name}: {exc}") from None


def default_method(spec: IndexSpec, kind: str) -> str:
    return spec.methods[kind]["default"]


def check_spec_quotes(spec: IndexSpec, seeds: str | os.PathLike | None = None) -> pd.DataFrame:
    """Check every quote of the spec against its seed line.

    Returns one row per quote: where, locator, found (bool); ``found`` is NA and the
    frame's ``attrs['note']`` says so when the seed documents are absent.
    """
    folder = paths.seeds_dir(seeds)
    rows = []
    text = SeedText(folder) if folder is not None else None
    for where, locator, quote in spec.quotes:
        found = pd.NA
        if text is not None:
            found = _quote_on_line(text, locator, quote)
        rows.append({"where": where, "locator": locator, "quote": quote, "found": found})
    frame = pd.DataFrame(rows)
    frame["found"] = frame["found"].astype("boolean")
    frame.attrs["note"] = (f"checked against {folder}" if folder else
                           "seed documents not found (looked in: " + ", ".join(paths.seeds_search_paths(seeds)) + "): quotes NOT checked")
    return frame


_LOCATOR = re.compile(r"^(?P<file>[^:]+\.txt):L(?P<first>\d+)(?:-(?P<last>\d+))?$")


def _quote_on_line(text: SeedText, locator: str, quote: str) -> bool:
    match = _LOCATOR.match(str(locator))
    if not match:
        return False
    first, last = int(match["first"]), int(match["last"] or match["first"])
    return text.contains(match["file"], first, last, str(quote))
