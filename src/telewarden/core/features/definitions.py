"""The Sichuan features as data: one declarative definition, compiled by each engine.

What belongs here: a small description of each per-number aggregate (the table it reads, an
optional row filter, the aggregation, and a post-expression over the aggregates), written once
and compiled to Polars expressions here (:func:`polars_aggregate`, :func:`polars_derived`, used
by :mod:`telewarden.core.features.sichuan`) and to Spark columns by
``telewarden.adapters.spark.features``. An engine only decides *how* to group (Polars groups on
an integer code of the number, Spark on the number itself); *what* is computed comes from here,
so the two engines cannot drift apart on a definition.

Three shapes cover the contest's call, SMS and app features (:data:`VOC`, :data:`SMS`,
:data:`APP`):

- :class:`Aggregate`: one aggregation per number over the table's rows (``rows``,
  ``rows_where``, ``nunique``, ``sum``, ``mean``, ``median``, ``min``, ``max``, ``var``),
  optionally over the rows matching a :class:`Where`;
- the same over the (number, counterpart) pairs: first per pair (``pair_aggregates``), then per
  number over its pairs (``over_pairs``); missing counterparts form no pair, as in pandas;
- :class:`HourDayMode`: the mode of the hour or day of a timestamp, its count, and the number
  of distinct values (smallest value on a tie).

A :class:`Derived` column is the post-expression: a ratio of two aggregates, or an aggregate
itself, nulled unless a guard aggregate is positive (the NaN rules of
``shared/docs/sichuan-features.md``: a number with calls but no outgoing call has NaN, not 0,
for the features over outgoing calls). The eight monthly ARPU columns of the ``user`` table are
row-wise statistics, not aggregates over rows; each engine writes them out (they are guarded by
the parity test of the two engines, ``tests/spark``).

Examples
--------
>>> [a.name for a in VOC.aggregates if a.where is not None]
['voccalltype1', 'imeis', 'city_name_call', 'county_name_call']
>>> VOC.derived[-1]
Derived(name='voc_calltype1', numerator='voccalltype1', denominator='opposite_count', guard='voccalltype1')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

AggregationKind = Literal[
    "rows", "rows_where", "nunique", "sum", "mean", "median", "min", "max", "var"
]
"""``rows``: row count; ``rows_where``: rows matching the filter; ``nunique``: distinct
non-missing values (pandas ``nunique``); ``var``: sample variance (ddof = 1)."""


@dataclass(frozen=True, slots=True)
class Where:
    """A row filter: ``column == value``."""

    column: str
    value: int


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One per-group aggregation: ``kind`` of ``column`` over the rows matching ``where``."""

    name: str
    kind: AggregationKind
    column: str | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    """``numerator / denominator`` (or ``numerator`` alone), null unless ``guard`` > 0.

    Division follows IEEE (x / 0 is infinite), as Polars and NumPy divide."""

    name: str
    numerator: str
    denominator: str | None = None
    guard: str | None = None


@dataclass(frozen=True, slots=True)
class HourDayMode:
    """Mode, its count and the distinct count of the ``part`` (hour or day) of ``timestamp``."""

    part: Literal["hour", "day"]
    timestamp: str
    mode: str
    mode_count: str
    nunique: str


@dataclass(frozen=True, slots=True)
class TableFeatures:
    """Every feature of one contest table, and the order they are published in."""

    table: str
    numeric: tuple[str, ...]
    """Columns read as Float64 (``call_dur``, ``flow``); ``calltype_id`` is read as Int64."""
    aggregates: tuple[Aggregate, ...]
    counterpart: str | None = None
    pair_aggregates: tuple[Aggregate, ...] = ()
    over_pairs: tuple[Aggregate, ...] = ()
    zero_without_pairs: tuple[str, ...] = ()
    """Pair features that are 0, not missing, for a number with no pair (pandas ``nunique``)."""
    modes: tuple[HourDayMode, ...] = ()
    derived: tuple[Derived, ...] = ()
    outputs: tuple[str, ...] = ()


_OUTGOING = Where("calltype_id", 1)
_RECEIVED = Where("calltype_id", 2)

VOC = TableFeatures(
    table="voc",
    numeric=("call_dur",),
    aggregates=(
        Aggregate("opposite_count", "rows"),
        Aggregate("voccalltype1", "rows_where", where=_OUTGOING),
        Aggregate("imeis", "nunique", "imei_m", _OUTGOING),
        Aggregate("city_name_call", "nunique", "city_name", _OUTGOING),
        Aggregate("county_name_call", "nunique", "county_name", _OUTGOING),
        Aggregate("call_dur_mean", "mean", "call_dur"),
        Aggregate("call_dur_median", "median", "call_dur"),
        Aggregate("call_dur_max", "max", "call_dur"),
        Aggregate("call_dur_min", "min", "call_dur"),
        Aggregate("city_name_nunique", "nunique", "city_name"),
        Aggregate("county_name_nunique", "nunique", "county_name"),
        Aggregate("calltype_id_unique", "nunique", "calltype_id"),
    ),
    counterpart="opposite_no_m",
    pair_aggregates=(Aggregate("_calls", "rows"), Aggregate("_dur", "sum", "call_dur")),
    over_pairs=(
        Aggregate("opposite_unique", "rows"),
        Aggregate("phone2opposite_mean", "mean", "_calls"),
        Aggregate("phone2opposite_median", "median", "_calls"),
        Aggregate("phone2opposite_max", "max", "_calls"),
        Aggregate("phone2oppo_sum_mean", "mean", "_dur"),
        Aggregate("phone2oppo_sum_median", "median", "_dur"),
        Aggregate("phone2oppo_sum_max", "max", "_dur"),
    ),
    zero_without_pairs=("opposite_unique",),
    modes=(
        HourDayMode(
            "hour", "start_datetime", "voc_hour_mode", "voc_hour_mode_count", "voc_hour_nunique"
        ),
        HourDayMode(
            "day", "start_datetime", "voc_day_mode", "voc_day_mode_count", "voc_day_nunique"
        ),
    ),
    derived=(
        Derived("voccalltype1", "voccalltype1", guard="voccalltype1"),
        Derived("imeis", "imeis", guard="voccalltype1"),
        Derived("city_name_call", "city_name_call", guard="voccalltype1"),
        Derived("county_name_call", "county_name_call", guard="voccalltype1"),
        Derived("voc_calltype1", "voccalltype1", "opposite_count", guard="voccalltype1"),
    ),
    outputs=(
        "opposite_count",
        "opposite_unique",
        "voccalltype1",
        "imeis",
        "voc_calltype1",
        "city_name_call",
        "county_name_call",
        "phone2opposite_mean",
        "phone2opposite_median",
        "phone2opposite_max",
        "phone2oppo_sum_mean",
        "phone2oppo_sum_median",
        "phone2oppo_sum_max",
        "call_dur_mean",
        "call_dur_median",
        "call_dur_max",
        "call_dur_min",
        "city_name_nunique",
        "county_name_nunique",
        "calltype_id_unique",
        "voc_hour_mode",
        "voc_hour_mode_count",
        "voc_hour_nunique",
        "voc_day_mode",
        "voc_day_mode_count",
        "voc_day_nunique",
    ),
)
"""The 26 call features."""

SMS = TableFeatures(
    table="sms",
    numeric=(),
    aggregates=(
        Aggregate("sms_count", "rows"),
        Aggregate("calltype_2", "rows_where", where=_RECEIVED),
    ),
    counterpart="opposite_no_m",
    over_pairs=(Aggregate("sms_nunique", "rows"),),
    zero_without_pairs=("sms_nunique",),
    modes=(
        HourDayMode("hour", "request_datetime", "hour_mode", "hour_mode_count", "hour_nunique"),
        HourDayMode("day", "request_datetime", "day_mode", "day_mode_count", "day_nunique"),
    ),
    derived=(
        Derived("sms_rate", "sms_count", "sms_nunique"),
        Derived("calltype_2", "calltype_2", guard="calltype_2"),
        Derived("calltype_rate", "calltype_2", "sms_count", guard="calltype_2"),
    ),
    outputs=(
        "sms_count",
        "sms_nunique",
        "sms_rate",
        "calltype_2",
        "calltype_rate",
        "hour_mode",
        "hour_mode_count",
        "hour_nunique",
        "day_mode",
        "day_mode_count",
        "day_nunique",
    ),
)
"""The 11 SMS features."""

APP = TableFeatures(
    table="app",
    numeric=("flow",),
    aggregates=(
        Aggregate("busi_count", "nunique", "busi_name"),
        Aggregate("flow_mean", "mean", "flow"),
        Aggregate("flow_median", "median", "flow"),
        Aggregate("flow_min", "min", "flow"),
        Aggregate("flow_max", "max", "flow"),
        Aggregate("flow_var", "var", "flow"),
        Aggregate("flow_sum", "sum", "flow"),
        Aggregate("month_ids", "nunique", "month_id"),
    ),
    derived=(Derived("flow_month", "flow_sum", "month_ids", guard="month_ids"),),
    outputs=(
        "busi_count",
        "flow_mean",
        "flow_median",
        "flow_min",
        "flow_max",
        "flow_var",
        "flow_sum",
        "month_ids",
        "flow_month",
    ),
)
"""The 9 app (data usage) features."""

DECLARED: tuple[TableFeatures, ...] = (VOC, SMS, APP)
"""The tables whose features are declared here (46 of the 55; the 9 ARPU ones are row-wise)."""


# -- the Polars back-end ----------------------------------------------------------------------


def polars_where(where: Where) -> pl.Expr:
    """The filter as a Polars predicate."""
    return pl.col(where.column) == where.value


def polars_aggregate(aggregate: Aggregate) -> pl.Expr:
    """The aggregation as a Polars expression for ``group_by(...).agg``.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"k": [1, 1, 2], "t": [1, 2, 1], "x": ["a", None, "a"]})
    >>> frame.group_by("k").agg(polars_aggregate(Aggregate("n", "nunique", "x", Where("t", 1))),
    ...     polars_aggregate(Aggregate("r", "rows_where", where=Where("t", 2)))).sort("k").rows()
    [(1, 1, 1), (2, 1, 0)]
    """
    kind = aggregate.kind
    if kind == "rows":
        expr = pl.len()
    elif kind == "rows_where":
        if aggregate.where is None:
            raise ValueError(f"{aggregate.name}: rows_where needs a filter")
        expr = polars_where(aggregate.where).sum()
    else:
        if aggregate.column is None:
            raise ValueError(f"{aggregate.name}: {kind} needs a column")
        values = pl.col(aggregate.column)
        if aggregate.where is not None:
            values = values.filter(polars_where(aggregate.where))
        if kind == "nunique":
            expr = values.drop_nulls().n_unique()
        elif kind == "var":
            expr = values.var(ddof=1)
        else:
            expr = getattr(values, kind)()
    return expr.alias(aggregate.name)


def polars_derived(derived: Derived) -> pl.Expr:
    """The post-expression over aggregated columns, as a Polars expression.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"a": [0, 2], "b": [4, 4]})
    >>> frame.select(polars_derived(Derived("r", "a", "b", guard="a"))).to_series().to_list()
    [None, 0.5]
    """
    value = pl.col(derived.numerator)
    if derived.denominator is not None:
        value = value / pl.col(derived.denominator)
    if derived.guard is not None:
        value = pl.when(pl.col(derived.guard) > 0).then(value).otherwise(None)
    return value.alias(derived.name)
