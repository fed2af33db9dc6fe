"""The composite index as one object: spec, inputs, every step's parameters, results and a log.

Modelled on COINr: a :class:`CompositeIndex` carries its spec, its input data, the
settings of every step (imputation, normalisation, weighting, aggregation, the
treatment of excluded indicators and of values stated as bounds) and a log of what
each step did (how many values were imputed per indicator and with what, which
indicators had no spread, where weights went). ``index.with_(imputation="median")``
regenerates it with one setting changed, and :func:`compare` sets two versions side
by side.

The pipeline follows the report (seed 001, L279-312): data -> imputation of missing
values by the mean of the non-missing values (L283) -> normalisation by Formula (1)
(L296; binary items enter as 0/1, L294) -> weighted third-level scores (Formula 2)
summed to second-level, first-level and total scores (Formulas 3-5). Levels are
computed as shares: a level's score is its weight times the weighted mean of its
children's values, which with complete data is exactly the sum of Formulas (3)-(5)
and, with missing data left missing (``imputation="none"``), is the mean over the
children a city has data for (COINr's aggregation over available data).

>>> idx = CompositeIndex()
>>> idx.settings.imputation, idx.settings.normalisation
('mean', 'minmax')
>>> round(float(idx.totals["total"].max()), 6) <= 100
True
>>> median = idx.with_(imputation="median")
>>> sorted(compare(idx, median).columns)[:3]
['city_id', 'level', 'rank_a']
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from .spec import METHOD_OPTIONS, IndexSpec, Item, SpecError, load_spec

TIE_DECIMALS = 9  # totals are ranked at 1e-9 points, so floating-point noise does not break ties


@dataclass(frozen=True)
class Settings:
    """The parameters of every step; defaults are the report's method (the spec's defaults)."""

    normalisation: str = "minmax"
    imputation: str = "mean"
    aggregation: str = "weighted_sum"
    weighting: str = "published"
    excluded_weight: str = "redistribute"
    lower_bounds: str = "as_value"
    geometric_floor: float = 0.1

    def check(self) -> None:
        for name, options in METHOD_OPTIONS.items():
            value = getattr(self, name)
            if value not in options:
                raise SpecError(f"unknown {name} {value!r} (implemented: {', '.join(options)})")
        if not 0 < self.geometric_floor < 1:
            raise SpecError(f"geometric_floor {self.geometric_floor} must lie strictly between 0 and 1")

    @classmethod
    def from_spec(cls, spec: IndexSpec, **changes) -> Settings:
        defaults = {kind: spec.methods[kind]["default"] for kind in METHOD_OPTIONS}
        unknown = set(changes) - {f.name for f in fields(cls)}
        if unknown:
            raise SpecError(f"unknown setting(s) {sorted(unknown)} (known: {', '.join(f.name for f in fields(cls))})")
        settings = cls(**{**defaults, **changes})
        settings.check()
        return settings


def rank_totals(values: pd.Series) -> pd.Series:
    """Rank 1 = highest; tied totals (at 1e-9) share the best rank; missing stays missing."""
    return values.round(TIE_DECIMALS).rank(ascending=False, method="min").astype("Int64")


def evaluated_cities(data_dir=None) -> list[str]:
    from .. import data

    table = data.cities(data_dir)
    return list(table.loc[table["in_4g_2024"].fillna(False), "city_id"])


class CompositeIndex:
    """A composite index built from a spec and coded inputs, with its log.

    Parameters
    ----------
    spec : IndexSpec, optional
        Default: :func:`hotlines.index.load_spec` (``data/index_4g.yaml``).
    inputs : DataFrame, optional
        Columns ``city_id``, ``indicator``, ``value`` and optionally ``used`` and
        ``qualifier``. Default: :func:`hotlines.index.load_inputs`.
    cities : list of str, optional
        The cities the index covers. Default: the 20 cities evaluated in 2024.
    **settings
        See :class:`Settings`: ``normalisation`` (minmax, minmax_scale, zscore, rank),
        ``imputation`` (mean, median, worst, none), ``aggregation`` (weighted_sum,
        geometric), ``weighting`` (published, equal, entropy), ``excluded_weight``
        (redistribute, drop), ``lower_bounds`` (as_value, missing).

    Results (all tidy DataFrames): :attr:`raw`, :attr:`imputed`, :attr:`normalised`
    (city × indicator), :attr:`weights`, :attr:`scores`, :attr:`totals`, :attr:`log`.
    """

    def __init__(self, spec: IndexSpec | None = None, inputs: pd.DataFrame | None = None,
                 cities: list[str] | None = None, **settings):
        from .inputs import load_inputs

        self.spec = spec if spec is not None else load_spec()
        self.inputs = inputs if inputs is not None else load_inputs(spec=self.spec)
        if cities is None and self.spec.cities != "in_4g_2024":
            raise SpecError(f"spec cities {self.spec.cities!r}: only 'in_4g_2024' (cities.csv) is known; pass cities=[...]")
        self.cities = list(cities) if cities is not None else evaluated_cities()
        self.settings = Settings.from_spec(self.spec, **settings)
        self._log: list[dict] = []
        self._run()

    # ------------------------------------------------------------ public API

    def with_(self, **changes) -> CompositeIndex:
        """The same index regenerated with some settings changed."""
        return CompositeIndex(self.spec, self.inputs, self.cities, **{**asdict(self.settings), **changes})

    def variant(self, **changes) -> CompositeIndex:
        """Like :meth:`with_`, but reuses this index's raw matrix when only imputation,
        normalisation, aggregation or weighting change (the Monte Carlo builds many)."""
        cheap = {"imputation", "normalisation", "aggregation", "weighting", "geometric_floor"}
        if not set(changes) <= cheap:
            return self.with_(**changes)
        clone = object.__new__(CompositeIndex)
        clone.spec, clone.inputs, clone.cities = self.spec, self.inputs, self.cities
        clone.settings = Settings.from_spec(self.spec, **{**asdict(self.settings), **changes})
        clone._log = [e for e in self._log if e["step"] in ("spec", "inputs")]
        clone.included, clone.raw, clone.bounds = self.included, self.raw, self.bounds
        clone.imputed = clone._impute(clone.raw)
        clone.normalised = clone._normalise(clone.imputed)
        return clone

    @property
    def log(self) -> pd.DataFrame:
        """One row per logged action: step, item, what, value, detail."""
        self.totals  # every step has run (weights and aggregation are computed on first use)
        return pd.DataFrame(self._log, columns=["step", "item", "what", "value", "detail"])

    @functools.cached_property
    def weights(self) -> pd.DataFrame:
        """The weights in use: id, level, parent, weight, declared_weight."""
        return self._weights()

    @functools.cached_property
    def _results(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self._aggregate()

    @property
    def scores(self) -> pd.DataFrame:
        """Tidy scores: city_id, level (1-3), indicator, parent, weight, value (normalised value
        at level 3, share of the weight above), points (weight x value), raw, imputed, bound, and
        rank (the city's rank on that indicator; 1 = highest)."""
        return self._results[0]

    @property
    def totals(self) -> pd.DataFrame:
        """city_id, total (points), max_total, rank (1 = highest; ties share the best rank)."""
        return self._results[1]

    def level_scores(self, level: int = 1) -> pd.DataFrame:
        """Wide city × indicator table of points at one level (1, 2 or 3)."""
        part = self.scores[self.scores["level"] == level]
        return part.pivot(index="city_id", columns="indicator", values="points").loc[self.cities]

    def __repr__(self) -> str:
        s = self.settings
        return (f"CompositeIndex({self.spec.name!r}, {len(self.cities)} cities, {len(self.included)} indicators; "
                f"normalisation={s.normalisation}, imputation={s.imputation}, aggregation={s.aggregation}, "
                f"weighting={s.weighting})")

    # ------------------------------------------------------------ pipeline

    def _note(self, step: str, item: str | None, what: str, value=None, detail: str = "") -> None:
        self._log.append({"step": step, "item": item, "what": what, "value": value, "detail": detail})

    def _run(self) -> None:
        s = self.settings
        for name, value in asdict(s).items():
            self._note("settings", None, name, value)
        self.included: list[Item] = [i for i in self.spec.third_level if i.include]
        for item in self.spec.third_level:
            if not item.include:
                self._note("spec", item.id, "excluded", None, item.exclude_reason)
        self.raw = self._raw_matrix()
        self.imputed = self._impute(self.raw)
        self.normalised = self._normalise(self.imputed)

    def _raw_matrix(self) -> pd.DataFrame:
        inputs = self.inputs.copy()
        for column, default in (("used", True), ("qualifier", "=")):
            if column not in inputs:
                inputs[column] = default
        used = inputs[inputs["used"].fillna(False).astype(bool)]
        known = {i.id for i in self.spec.third_level}
        unknown_ind = sorted(set(used["indicator"]) - known)
        if unknown_ind:
            raise SpecError(f"unknown indicator(s) in the inputs: {', '.join(map(repr, unknown_ind))} "
                            f"(not third-level indicators of {self.spec.name!r})")
        unknown_city = sorted(set(used["city_id"]) - set(self.cities))
        if unknown_city:
            raise SpecError(f"the inputs name city/cities outside the index: {', '.join(map(repr, unknown_city))}")
        doubled = used.groupby(["city_id", "indicator"]).size()
        if (doubled > 1).any():
            city, ind = doubled[doubled > 1].index[0]
            raise SpecError(f"more than one used value for city {city!r} and indicator {ind!r}")

        ids = [i.id for i in self.included]
        used = used[used["indicator"].isin(ids)]
        for city in self.cities:
            if not (used["city_id"] == city).any():
                raise SpecError(f"city {city!r} is missing from the data: no value for any included indicator")
        bounds = used["qualifier"].isin([">", ">=", "<", "<="])
        treatment = {"missing": ("bounds set to missing", "values stated as bounds are treated as missing"),
                     "as_value": ("bounds used as values", "a value stated as a bound enters at the bound"),
                     "floor": ("bounds used as floors", "a bound enters at the bound, or at the imputed value where that lies beyond it")}
        what, detail = treatment[self.settings.lower_bounds]
        for ind, n in used[bounds].groupby("indicator").size().items():
            self._note("inputs", ind, what, int(n), detail)
        if self.settings.lower_bounds == "missing":
            used, bounds = used[~bounds], bounds[~bounds]
        raw = (used.pivot(index="city_id", columns="indicator", values="value")
               .reindex(index=self.cities, columns=ids).astype(float))
        raw.index.name, raw.columns.name = "city_id", "indicator"
        marks = used.assign(direction=used["qualifier"].map({">": 1, ">=": 1, "<": -1, "<=": -1}).fillna(0))
        self.bounds = (marks.pivot(index="city_id", columns="indicator", values="direction")
                       .reindex(index=self.cities, columns=ids).fillna(0).astype(int))
        for item in self.included:
            observed = raw[item.id].dropna()
            if observed.empty:
                raise SpecError(f"third-level indicator {item.id!r} has no data at all"
                                + (" once values stated as bounds are set to missing" if self.settings.lower_bounds == "missing" else "")
                                + ": exclude it in the spec (rebuild: include: false) with the reason")
            if item.type != "binary" and observed.nunique() < 2 and not item.has_scale:
                raise SpecError(f"third-level indicator {item.id!r} has {observed.nunique()} distinct value(s) and no "
                                "declared scale: Formula (1) is undefined; exclude it in the spec or declare its scale")
            self._note("inputs", item.id, "observed", int(observed.size), f"{raw[item.id].isna().sum()} of {len(self.cities)} cities missing")
        return raw

    def _impute(self, raw: pd.DataFrame) -> pd.DataFrame:
        method = self.settings.imputation
        out = raw.copy()
        for item in self.included:
            column = raw[item.id]
            missing = int(column.isna().sum())
            n_bounds = int((self.bounds[item.id] != 0).sum())
            if method == "none":
                self._note("imputation", item.id, "left missing", missing, "no imputation: aggregation over available data")
                continue
            if not missing and not (self.settings.lower_bounds == "floor" and n_bounds):
                self._note("imputation", item.id, "imputed", 0, "no missing value")
                continue
            observed = column.dropna()
            exact = column[self.bounds[item.id] == 0].dropna()
            if self.settings.lower_bounds == "floor" and not exact.empty:
                observed = exact  # the imputation statistic comes from exactly stated values
            if method == "mean":
                fill, how = observed.mean(), f"mean of {observed.size} observed values"
            elif method == "median":
                fill, how = observed.median(), f"median of {observed.size} observed values"
            else:  # worst
                if item.worst is not None:
                    fill, how = item.worst, f"worst level of the {item.type} scale"
                else:
                    fill = observed.min() if item.direction == "higher" else observed.max()
                    how = "worst observed value (continuous indicator)"
            out[item.id] = column.fillna(fill)
            self._note("imputation", item.id, "imputed", missing, f"{how} = {fill:.6g}")
            if self.settings.lower_bounds == "floor" and n_bounds:
                up, down = self.bounds[item.id] > 0, self.bounds[item.id] < 0
                raised = out[item.id].where(~up, np.maximum(column, fill)).where(~down, np.minimum(column, fill))
                n_moved = int((raised != out[item.id]).sum())
                out[item.id] = raised
                self._note("imputation", item.id, "bounds raised to the imputed value", n_moved,
                           f"{n_moved} of {n_bounds} values stated as bounds lie short of {fill:.6g} and take it")
            if observed.nunique() == 1 and method in ("mean", "median"):
                self._note("imputation", item.id, "no spread", None,
                           f"every observed value is {observed.iloc[0]:g}, so after imputation all {len(self.cities)} cities share it")
        return out

    def _normalise(self, imputed: pd.DataFrame) -> pd.DataFrame:
        method = self.settings.normalisation
        out = pd.DataFrame(index=imputed.index, columns=imputed.columns, dtype=float)
        for item in self.included:
            x = imputed[item.id]
            if item.type == "binary" and method in ("minmax", "minmax_scale"):
                out[item.id] = x  # 'a score of 1 corresponds to the indicator's weight' (L294)
                continue
            if method in ("minmax", "minmax_scale"):
                if method == "minmax_scale" and item.has_scale:
                    lo, hi = item.scale_min, item.scale_max
                else:
                    lo, hi = x.min(), x.max()
                    if method == "minmax_scale":
                        self._note("normalisation", item.id, "observed range", None, "no declared scale: min and max over the cities")
                    if hi - lo < 1e-12:
                        lo, hi = item.scale_min, item.scale_max  # cannot be None: checked in _raw_matrix
                        self._note("normalisation", item.id, "no spread", None,
                                   f"all cities equal after imputation; Formula (1) is 0/0, so the declared scale {lo:g}..{hi:g} is used")
                v = (x - lo) / (hi - lo)
                out[item.id] = v if item.direction == "higher" else 1 - v
            elif method == "zscore":
                sd = x.std(ddof=0)
                if sd < 1e-12:
                    z = x * 0.0
                    self._note("normalisation", item.id, "no spread", None, "zero standard deviation: z = 0 for every city")
                else:
                    z = (x - x.mean()) / sd
                out[item.id] = z if item.direction == "higher" else -z
            else:  # rank
                r = x.rank(method="average")
                n = int(x.notna().sum())
                v = (r - 1) / (n - 1) if n > 1 else r * 0 + 0.5
                out[item.id] = v if item.direction == "higher" else 1 - v
        out.index.name, out.columns.name = "city_id", "indicator"
        return out

    def _weights(self) -> pd.DataFrame:
        spec, s = self.spec, self.settings
        ids = [i.id for i in self.included]
        third: dict[str, float] = {}
        if s.weighting == "entropy":
            third = self._entropy_weights(ids)
        elif s.weighting == "equal":
            firsts = [f for f in spec.first_level if any(spec.first_of(i) == f.id for i in ids)]
            for f in firsts:
                seconds = [c for c in f.children if any(k in ids for k in spec.item(c).children)]
                for c in seconds:
                    kids = [k for k in spec.item(c).children if k in ids]
                    for k in kids:
                        third[k] = spec.total / len(firsts) / len(seconds) / len(kids)
            self._note("weights", None, "equal", None, f"{len(firsts)} first-level indicators, equal shares at every level")
        else:  # published
            for f in spec.first_level:
                seconds = [spec.item(c) for c in f.children]
                alive = [c for c in seconds if any(k in ids for k in c.children)]
                if not alive:
                    raise SpecError(f"first-level indicator {f.id!r} has no included third-level indicator")
                dead = [c for c in seconds if c not in alive]
                for c in alive:
                    w2 = c.weight
                    if s.excluded_weight == "redistribute" and dead:
                        w2 = c.weight * f.weight / sum(a.weight for a in alive)
                    kids = [spec.item(k) for k in c.children]
                    live = [k for k in kids if k.id in ids]
                    declared = sum(k.weight for k in live)
                    for k in live:
                        third[k.id] = k.weight * (w2 / declared if s.excluded_weight == "redistribute" else 1.0)
                    if s.excluded_weight == "redistribute" and len(live) < len(kids):
                        gone = [k.id for k in kids if k not in live]
                        self._note("weights", c.id, "redistributed", None,
                                   f"weight of excluded {', '.join(gone)} goes to {', '.join(k.id for k in live)}")
                for c in dead:
                    if s.excluded_weight == "redistribute":
                        self._note("weights", c.id, "redistributed", c.weight,
                                   f"no included indicator: its weight goes to {', '.join(a.id for a in alive)}")
                    else:
                        self._note("weights", c.id, "dropped", c.weight, "no included indicator: its weight is dropped")
        rows = []
        for f in spec.first_level:
            w1 = 0.0
            for c in f.children:
                w2 = sum(third.get(k, 0.0) for k in spec.item(c).children)
                for k in spec.item(c).children:
                    if k in third:
                        rows.append({"id": k, "level": 3, "parent": c, "weight": third[k], "declared_weight": spec.item(k).weight})
                if any(k in third for k in spec.item(c).children):
                    rows.append({"id": c, "level": 2, "parent": f.id, "weight": w2, "declared_weight": spec.item(c).weight})
                w1 += w2
            rows.append({"id": f.id, "level": 1, "parent": None, "weight": w1, "declared_weight": f.weight})
        frame = pd.DataFrame(rows)
        total = frame.loc[frame["level"] == 1, "weight"].sum()
        self._note("weights", None, s.weighting, round(float(total), 9), "sum of the weights of the included indicators")
        return frame

    def _entropy_weights(self, ids: list[str]) -> dict[str, float]:
        warning = self.spec.methods["weighting"]["options"]["entropy"]["warning"]
        warnings.warn("entropy weights: " + " ".join(str(warning).split()), UserWarning, stacklevel=4)
        self._note("weights", None, "entropy warning", None, " ".join(str(warning).split()))
        d = {}
        for k in ids:
            v = self.normalised[k].dropna().to_numpy(dtype=float)
            v = v - min(v.min(), 0.0)  # z-scores shifted to be non-negative
            n = v.size
            if n < 2 or v.sum() <= 0:
                d[k] = 0.0
                continue
            p = v / v.sum()
            nz = p[p > 0]
            entropy = -(nz * np.log(nz)).sum() / np.log(n)
            d[k] = max(0.0, 1.0 - entropy)
        if sum(d.values()) <= 0:
            raise SpecError("entropy weights are undefined: no included indicator varies across cities")
        total = sum(d.values())
        out = {k: self.spec.total * d[k] / total for k in ids}
        for k in ids:
            self._note("weights", k, "entropy weight", round(out[k], 6), f"1 - entropy = {d[k]:.6g}")
        return out

    def _aggregate(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        spec, s = self.spec, self.settings
        geometric = s.aggregation == "geometric"
        values = self.normalised.copy()
        if geometric:
            for k in values.columns:
                v = values[k]
                if s.normalisation == "zscore":
                    lo, hi = v.min(), v.max()
                    v = (v - lo) / (hi - lo) if hi - lo > 1e-12 else v * 0 + 1.0
                values[k] = s.geometric_floor + (1 - s.geometric_floor) * v
            self._note("aggregation", None, "geometric", s.geometric_floor,
                       "values lifted to floor + (1 - floor) x' before weighted geometric means")
        w = self.weights.set_index("id")["weight"]

        def combine(children: list[str], shares: pd.DataFrame) -> pd.Series:
            """Weighted (arithmetic or geometric) mean over the children each city has."""
            weights = pd.Series({c: w[c] for c in children})
            avail = shares[children].notna() & (weights > 0)
            wmat = avail.mul(weights, axis=1)
            den = wmat.sum(axis=1)
            if geometric:
                num = (np.log(shares[children].where(avail, 1.0)) * wmat).sum(axis=1)
                out = np.exp(num / den)
            else:
                num = (shares[children].where(avail, 0.0) * wmat).sum(axis=1)
                out = num / den
            return out.where(den > 0)

        second_share = pd.DataFrame(index=self.cities, dtype=float)
        first_share = pd.DataFrame(index=self.cities, dtype=float)
        for f in spec.first_level:
            seconds = [c for c in f.children if c in w.index]
            for c in seconds:
                kids = [k for k in spec.item(c).children if k in w.index]
                second_share[c] = combine(kids, values)
            first_share[f.id] = combine(seconds, second_share)
        total_share = combine([f.id for f in spec.first_level], first_share)

        ids = list(self.normalised.columns)
        n = len(self.cities)
        third_w = np.array([w[k] for k in ids])
        x = self.normalised.to_numpy(dtype=float)
        rows = [pd.DataFrame({
            "city_id": np.repeat(self.cities, len(ids)), "level": 3, "indicator": np.tile(ids, n),
            "parent": np.tile([spec.item(k).parent for k in ids], n), "weight": np.tile(third_w, n),
            "value": x.ravel(), "points": np.full(x.size, np.nan) if geometric else (x * third_w).ravel(),
            "raw": self.raw.to_numpy(dtype=float).ravel(),
            "imputed": (self.raw.isna() & self.imputed.notna()).to_numpy().ravel(),
            "bound": (self.bounds != 0).to_numpy().ravel(),
        })]
        for level, table in ((2, second_share), (1, first_share)):
            cols = list(table.columns)
            lw = np.array([w[c] for c in cols])
            v = table.to_numpy(dtype=float)
            rows.append(pd.DataFrame({
                "city_id": np.repeat(self.cities, len(cols)), "level": level, "indicator": np.tile(cols, n),
                "parent": np.tile([spec.item(c).parent for c in cols], n), "weight": np.tile(lw, n),
                "value": v.ravel(), "points": (v * lw).ravel(), "raw": np.nan, "imputed": False, "bound": False,
            }))
        scores = pd.concat(rows, ignore_index=True)
        scores["rank"] = (scores["value"].round(TIE_DECIMALS).groupby([scores["level"], scores["indicator"]])
                          .rank(ascending=False, method="min").astype("Int64"))
        max_total = float(self.weights.loc[self.weights["level"] == 1, "weight"].sum())
        totals = pd.DataFrame({"city_id": self.cities, "total": (max_total * total_share).to_numpy(dtype=float),
                               "max_total": max_total})
        totals["rank"] = rank_totals(totals["total"]).to_numpy()
        self._note("aggregation", None, s.aggregation, None,
                   "Formulas (2)-(5): weighted sums" if not geometric else "weighted geometric means at every level")
        return scores, totals


def compare(a: CompositeIndex, b: CompositeIndex) -> pd.DataFrame:
    """Score and rank differences per city between two versions, for the total and each first level.

    Columns: ``city_id``, ``level`` (``total`` or a first-level id), ``score_a``,
    ``score_b``, ``score_diff`` (b - a), ``rank_a``, ``rank_b``, ``rank_diff``
    (b - a; positive means b ranks the city lower). ``attrs['changed']`` lists the
    settings that differ.

    >>> a = CompositeIndex()
    >>> table = compare(a, a.with_(imputation="worst"))
    >>> table.attrs["changed"]
    {'imputation': ('mean', 'worst')}
    """
    if a.cities != b.cities:
        raise SpecError("the two indexes cover different cities")
    frames = []
    for name, table_a, table_b in [("total", a.totals.set_index("city_id")["total"], b.totals.set_index("city_id")["total"])] + [
        (f.id, a.level_scores(1)[f.id], b.level_scores(1)[f.id]) for f in a.spec.first_level
    ]:
        part = pd.DataFrame({"city_id": a.cities, "level": name,
                             "score_a": table_a.loc[a.cities].to_numpy(dtype=float),
                             "score_b": table_b.loc[a.cities].to_numpy(dtype=float)})
        part["score_diff"] = part["score_b"] - part["score_a"]
        part["rank_a"] = rank_totals(part["score_a"]).to_numpy()
        part["rank_b"] = rank_totals(part["score_b"]).to_numpy()
        part["rank_diff"] = part["rank_b"] - part["rank_a"]
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["changed"] = {k: (v, getattr(b.settings, k)) for k, v in asdict(a.settings).items() if getattr(b.settings, k) != v}
    return out
