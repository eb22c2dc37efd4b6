"""The 55 behaviour features of the 2020 Sichuan fraud-call contest, from its four raw tables.

What belongs here: the exact feature definitions of ``shared/docs/sichuan-features.md`` as Polars
LazyFrame expressions, plus the row checks that decide which raw rows are usable. One call,
:func:`sichuan_features`, turns the contest's ``voc``, ``sms``, ``app`` and ``user`` tables into
one row per ``phone_no_m`` with the 55 columns of :data:`FEATURE_NAMES`, in the published order.

Semantics that matter for a model trained on the published file:

- a number with no rows in a table gets nulls (NaN) for that table's features; a filtered subset
  that is empty (no outgoing call, no received SMS) gives nulls for the features over it;
- distinct counts skip missing values (pandas ``nunique``); a mode is the most frequent value,
  the smallest one on a tie;
- variance, sem and skew are sample statistics (ddof = 1; pandas' bias-corrected skewness, which
  is null under three values and 0 when all values are equal);
- ``arpu_sum`` over a row with every month missing is 0, as pandas sums and as the published
  file shows (133 numbers with null ``arpu_mean`` and ``arpu_sum`` 0).

The call, SMS and app features are declared once in :mod:`telewarden.core.features.definitions`
(aggregates, filters, post-expressions) and compiled here to Polars, and by the Spark engine to
Spark columns; this module decides only how Polars groups (on an integer code of the number,
with the mode trick of :func:`_mode`). The ARPU features are row-wise and written out here.

Polars was chosen over DuckDB SQL by measurement: see ``bench/features.py`` and the "Feature
engine" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.definitions import (
    APP,
    SMS,
    VOC,
    TableFeatures,
    polars_aggregate,
    polars_derived,
)
from telewarden.core.sichuan import (
    APP_COLUMNS,
    ARPU_MONTHS,
    SMS_COLUMNS,
    USER_COLUMNS,
    VOC_COLUMNS,
)

KEY = "phone_no_m"
"""The contest's name for the subscriber number column (hashed MSISDN)."""

VOC_FEATURES: tuple[str, ...] = VOC.outputs
SMS_FEATURES: tuple[str, ...] = SMS.outputs
APP_FEATURES: tuple[str, ...] = APP.outputs
USER_FEATURES: tuple[str, ...] = (
    "arpu_mean",
    "arpu_var",
    "arpu_max",
    "arpu_min",
    "arpu_median",
    "arpu_sum",
    "arpu_skew",
    "arpu_sem",
    "arpu_quantile",
)
FEATURE_NAMES: tuple[str, ...] = VOC_FEATURES + SMS_FEATURES + APP_FEATURES + USER_FEATURES
"""The 55 feature columns, in the order of the published ``features.csv``."""

# The contest's table layouts live in ``telewarden.core.sichuan`` (which also writes them).
ARPU_COLUMNS: tuple[str, ...] = ARPU_MONTHS
TABLE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "voc": VOC_COLUMNS,
    "sms": SMS_COLUMNS,
    "app": APP_COLUMNS,
    # the contest's user table may carry the training label; the features do not read it
    "user": tuple(c for c in USER_COLUMNS if c != "label"),
}
"""The columns each contest table must have (``user`` may also carry ``label``)."""

_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_ID = "_id"
"""Working column: the number as an integer code (see :func:`_number_id`)."""


def _timestamp(frame: pl.LazyFrame, column: str) -> pl.Expr:
    """The column as a Datetime, parsing the contest's ``YYYY-mm-dd HH:MM:SS`` text if needed."""
    dtype = frame.collect_schema()[column]
    if dtype == pl.String:
        return pl.col(column).str.to_datetime(_TIMESTAMP_FORMAT, strict=False)
    return pl.col(column).cast(pl.Datetime("us"), strict=False)


def _number_id() -> pl.Expr:
    """The number as its code in Polars' global categorical mapping (equal numbers, equal codes).

    Hashing each number string once here lets every group-by after it work on a 32-bit integer:
    grouping by (code, counterpart) took about half the CPU time of grouping by (categorical
    number, counterpart) in ``bench/features.py`` at 1M calls."""
    code = pl.col(KEY).cast(pl.String).cast(pl.Categorical).to_physical()
    return code.cast(pl.UInt32).alias(_ID)


def _mode(
    frame: pl.LazyFrame, column: str, mode_name: str, count_name: str, nunique_name: str
) -> pl.LazyFrame:
    """Per number: the most frequent non-null value of ``column`` (smallest on a tie), its count,
    and the number of distinct values (one pass over the per-value counts serves all three).

    ``column`` holds an hour (0-23) or a day of month (1-31), below 64: the (number, value)
    pairs are counted on one integer, ``code * 64 + value`` (a third less CPU than grouping on
    the two columns at 10M rows), and one maximum over ``count * 64 + (63 - value)`` finds the
    largest count and, among equal counts, the smallest value, without sorting."""
    pair = pl.col(_ID).cast(pl.UInt64) * 64 + pl.col(column).cast(pl.UInt64)
    counts = (
        frame.filter(pl.col(column).is_not_null())
        .group_by(pair.alias("_pair"))
        .agg(pl.len().alias("_n"))
    )
    value = (pl.col("_pair") % 64).cast(pl.Int64)
    best = (pl.col("_n").cast(pl.Int64) * 64 + 63 - value).max()
    return counts.group_by((pl.col("_pair") // 64).cast(pl.UInt32).alias(_ID)).agg(
        (63 - best % 64).alias(mode_name),
        (best // 64).alias(count_name),
        pl.len().alias(nunique_name),
    )


def _per_number(rows: pl.LazyFrame, spec: TableFeatures) -> pl.LazyFrame:
    """The declared aggregates, pair features, derived columns and modes of one table.

    ``rows`` carries the number's integer code in ``_ID`` and, for tables with modes, the
    ``_hour`` and ``_day`` of the timestamp."""
    main = rows.group_by(_ID).agg(
        pl.col(KEY).first().cast(pl.String), *(polars_aggregate(a) for a in spec.aggregates)
    )
    if spec.counterpart is not None:
        # pandas' groupby drops missing keys, so a row without a counterpart forms no pair; the
        # pairs also give the distinct counterparts, cheaper than a string n_unique per number.
        pairs = (
            rows.filter(pl.col(spec.counterpart).is_not_null())
            .group_by(_ID, spec.counterpart)
            .agg(*(polars_aggregate(a) for a in spec.pair_aggregates))
            .group_by(_ID)
            .agg(*(polars_aggregate(a) for a in spec.over_pairs))
        )
        main = main.join(pairs, on=_ID, how="left").with_columns(
            pl.col(c).fill_null(0) for c in spec.zero_without_pairs
        )
    main = main.with_columns(polars_derived(d) for d in spec.derived)
    for mode in spec.modes:
        part = _mode(rows, f"_{mode.part}", mode.mode, mode.mode_count, mode.nunique)
        main = main.join(part, on=_ID, how="left")
    return main.select(KEY, *(pl.col(n).cast(pl.Float64) for n in spec.outputs))


def voc_features(voc: pl.LazyFrame) -> pl.LazyFrame:
    """The 26 call features per ``phone_no_m`` from a contest ``voc`` table.

    Parameters
    ----------
    voc : polars.LazyFrame
        Columns of ``TABLE_COLUMNS["voc"]``; ``start_datetime`` as text or Datetime.

    Returns
    -------
    polars.LazyFrame
        ``phone_no_m`` and :data:`VOC_FEATURES`, one row per number with calls.

    Examples
    --------
    >>> import polars as pl
    >>> voc = pl.LazyFrame({"phone_no_m": ["a", "a"], "opposite_no_m": ["x", "y"],
    ...     "calltype_id": [2, 2], "start_datetime": ["2020-01-01 08:00:00"] * 2,
    ...     "call_dur": [10, 30], "city_name": ["c", "c"], "county_name": ["k", "k"],
    ...     "imei_m": ["i", "i"]})
    >>> row = voc_features(voc).collect().row(0, named=True)
    >>> row["opposite_count"], row["voccalltype1"], row["call_dur_mean"]
    (2.0, None, 20.0)
    """
    calls = voc.with_columns(
        _timestamp(voc, "start_datetime").alias("_at"),
        pl.col("call_dur").cast(pl.Float64, strict=False),
        pl.col("calltype_id").cast(pl.Int64, strict=False),
        # Few distinct places: distinct counts over categorical codes are about twice as fast.
        pl.col("city_name", "county_name").cast(pl.String).cast(pl.Categorical),
        _number_id(),
    ).with_columns(pl.col("_at").dt.hour().alias("_hour"), pl.col("_at").dt.day().alias("_day"))
    return _per_number(calls, VOC)


def sms_features(sms: pl.LazyFrame) -> pl.LazyFrame:
    """The 11 SMS features per ``phone_no_m`` from a contest ``sms`` table.

    Parameters
    ----------
    sms : polars.LazyFrame
        Columns of ``TABLE_COLUMNS["sms"]``; ``calltype_id`` 1 = sent, 2 = received.

    Returns
    -------
    polars.LazyFrame
        ``phone_no_m`` and :data:`SMS_FEATURES`, one row per number with SMS.

    Examples
    --------
    >>> import polars as pl
    >>> sms = pl.LazyFrame({"phone_no_m": ["a"] * 3, "opposite_no_m": ["x", "x", "y"],
    ...     "calltype_id": [1, 2, 2], "request_datetime": ["2020-01-02 09:00:00"] * 3})
    >>> row = sms_features(sms).collect().row(0, named=True)
    >>> row["sms_rate"], row["calltype_2"], row["day_mode"], row["day_mode_count"]
    (1.5, 2.0, 2.0, 3.0)
    """
    rows = sms.with_columns(
        _timestamp(sms, "request_datetime").alias("_at"),
        pl.col("calltype_id").cast(pl.Int64, strict=False),
        _number_id(),
    ).with_columns(pl.col("_at").dt.hour().alias("_hour"), pl.col("_at").dt.day().alias("_day"))
    return _per_number(rows, SMS)


def app_features(app: pl.LazyFrame) -> pl.LazyFrame:
    """The 9 data-usage features per ``phone_no_m`` from a contest ``app`` table.

    Parameters
    ----------
    app : polars.LazyFrame
        Columns of ``TABLE_COLUMNS["app"]``; ``flow`` in MB.

    Returns
    -------
    polars.LazyFrame
        ``phone_no_m`` and :data:`APP_FEATURES`, one row per number with app rows.

    Examples
    --------
    >>> import polars as pl
    >>> app = pl.LazyFrame({"phone_no_m": ["a"] * 3, "busi_name": ["w", "w", "q"],
    ...     "flow": [1.0, 2.0, 6.0], "month_id": ["2020-01", "2020-02", "2020-02"]})
    >>> row = app_features(app).collect().row(0, named=True)
    >>> row["busi_count"], row["flow_var"], row["flow_month"]
    (2.0, 7.0, 4.5)
    """
    rows = app.with_columns(pl.col("flow").cast(pl.Float64, strict=False))
    # Grouped on the number itself: fewer rows than the call and SMS tables, and no pairs.
    main = rows.group_by(KEY).agg(polars_aggregate(a) for a in APP.aggregates)
    main = main.with_columns(polars_derived(d) for d in APP.derived)
    return main.select(KEY, *(pl.col(n).cast(pl.Float64) for n in APP.outputs))


def user_features(user: pl.LazyFrame) -> pl.LazyFrame:
    """The 9 ARPU features per ``phone_no_m`` over the eight monthly ``arpu_*`` columns.

    Parameters
    ----------
    user : polars.LazyFrame
        ``phone_no_m`` and the columns of :data:`ARPU_COLUMNS` (text such as ``\\N`` is missing).

    Returns
    -------
    polars.LazyFrame
        ``phone_no_m`` and :data:`USER_FEATURES`, one row per user row.

    Examples
    --------
    >>> import polars as pl
    >>> months = {c: [None] for c in ARPU_COLUMNS}
    >>> months.update(arpu_201908=[1.0], arpu_201909=[2.0], arpu_201910=[6.0])
    >>> row = user_features(pl.LazyFrame({"phone_no_m": ["a"], **months})).collect().row(0)
    >>> row[1:7]
    (3.0, 7.0, 6.0, 1.0, 2.0, 9.0)
    """
    arpu = pl.concat_list([pl.col(c).cast(pl.Float64, strict=False) for c in ARPU_COLUMNS])
    rows = user.select(KEY, arpu.list.drop_nulls().alias("_arpu"))
    n = pl.col("_arpu").list.len().cast(pl.Float64)
    deviation = pl.element() - pl.element().mean()
    m2 = pl.col("_arpu").list.eval((deviation**2).sum()).list.first()
    m3 = pl.col("_arpu").list.eval((deviation**3).sum()).list.first()
    # pandas zeroes a sum of squared deviations below 1e-14 before testing it, and calls a
    # constant series' skewness 0 rather than undefined.
    m2_clean = pl.when(m2.abs() < 1e-14).then(0.0).otherwise(m2)
    skew = (
        pl.when(n < 3)
        .then(None)
        .when(m2_clean == 0)
        .then(0.0)
        .otherwise(n * (n - 1).sqrt() / (n - 2) * m3 / m2_clean.pow(1.5))
    )
    var = pl.col("_arpu").list.var(ddof=1)
    out = rows.select(
        KEY,
        pl.col("_arpu").list.mean().alias("arpu_mean"),
        var.alias("arpu_var"),
        pl.col("_arpu").list.max().alias("arpu_max"),
        pl.col("_arpu").list.min().alias("arpu_min"),
        pl.col("_arpu").list.median().alias("arpu_median"),
        pl.col("_arpu").list.sum().alias("arpu_sum"),
        skew.alias("arpu_skew"),
        (var.sqrt() / n.sqrt()).alias("arpu_sem"),
        pl.col("_arpu")
        .list.eval(pl.element().quantile(0.5, "linear"))
        .list.first()
        .alias("arpu_quantile"),
    )
    return out.select(KEY, *(pl.col(c).cast(pl.Float64) for c in USER_FEATURES))


def _empty_features(names: Sequence[str]) -> pl.LazyFrame:
    return pl.LazyFrame(schema={KEY: pl.String, **dict.fromkeys(names, pl.Float64)})


def sichuan_features(
    voc: pl.LazyFrame | None = None,
    sms: pl.LazyFrame | None = None,
    app: pl.LazyFrame | None = None,
    user: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The 55 Sichuan features for every number present in any of the given tables.

    Parameters
    ----------
    voc, sms, app, user : polars.LazyFrame or None
        The contest's raw tables (see :data:`TABLE_COLUMNS`); a table left out counts as empty,
        so its features are null for every number.

    Returns
    -------
    polars.LazyFrame
        ``phone_no_m`` then :data:`FEATURE_NAMES` (all Float64), sorted by ``phone_no_m``;
        rows without a number (null ``phone_no_m``) belong to no number and give no row.

    Examples
    --------
    >>> import polars as pl
    >>> sms = pl.LazyFrame({"phone_no_m": ["b"], "opposite_no_m": ["x"], "calltype_id": [1],
    ...     "request_datetime": ["2020-03-04 23:10:00"]})
    >>> out = sichuan_features(sms=sms).collect()
    >>> out.width, out["hour_mode"][0], out["calltype_2"][0], out["opposite_count"][0]
    (56, 23.0, None, None)
    """
    parts = [
        voc_features(voc) if voc is not None else _empty_features(VOC_FEATURES),
        sms_features(sms) if sms is not None else _empty_features(SMS_FEATURES),
        app_features(app) if app is not None else _empty_features(APP_FEATURES),
        user_features(user) if user is not None else _empty_features(USER_FEATURES),
    ]
    # Full joins rather than the union of numbers left-joined to each part (measured: 10-17 %
    # less CPU at 1M calls; the union's branch was probably pruned differently from the joined
    # parts, so each part was computed twice).
    out = parts[0].with_columns(pl.col(KEY).cast(pl.String))
    for part in parts[1:]:
        out = out.join(
            part.with_columns(pl.col(KEY).cast(pl.String)), on=KEY, how="full", coalesce=True
        )
    return out.filter(pl.col(KEY).is_not_null()).select(KEY, *FEATURE_NAMES).sort(KEY)


def align_to_published(features: pl.LazyFrame) -> pl.LazyFrame:
    """Fill app features the way the published ``features.csv`` does for numbers without app rows.

    The published file was built from a user table left-joined to the app table with missing
    flow read as 0: a number with no app rows shows ``busi_count`` 0, ``flow_*`` 0,
    ``month_ids`` 0 and null ``flow_var`` / ``flow_month`` (633 such numbers), not the nulls the
    specification gives. A model trained on that file must see the same encoding when it scores
    features computed here, so the scorer applies this before predicting.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.LazyFrame({n: [None] for n in APP_FEATURES}, schema=dict.fromkeys(
    ...     APP_FEATURES, pl.Float64))
    >>> align_to_published(frame).collect().row(0)
    (0.0, 0.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, None)
    """
    no_app = pl.col("month_ids").is_null()
    zeroed = ("busi_count", "flow_mean", "flow_median", "flow_min", "flow_max", "flow_sum")
    return features.with_columns(
        *(pl.when(no_app).then(0.0).otherwise(pl.col(c)).alias(c) for c in zeroed),
        pl.when(no_app).then(0.0).otherwise(pl.col("month_ids")).alias("month_ids"),
    )


def validate_table(
    kind: str, raw: pl.DataFrame, first_line: int = 2
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a contest table read as text into usable rows and quarantined ones.

    Parameters
    ----------
    kind : str
        ``voc``, ``sms``, ``app`` or ``user``.
    raw : polars.DataFrame
        The table with every column as text (as read from CSV).
    first_line : int
        File line of the first row (2 for a CSV with a header).

    Returns
    -------
    (polars.DataFrame, polars.DataFrame)
        Accepted rows (still text), and ``line``, ``table``, ``reason`` of each rejected row.

    Raises
    ------
    InvalidInputError
        When a required column is missing altogether.

    Examples
    --------
    >>> import polars as pl
    >>> raw = pl.DataFrame({"phone_no_m": ["a", None], "busi_name": ["w", "w"],
    ...     "flow": ["1.5", "x"], "month_id": ["2020-01", "2020-01"]})
    >>> ok, bad = validate_table("app", raw)
    >>> ok.height, bad.row(0)
    (1, (3, 'app', 'phone_no_m is empty'))
    """
    if kind not in TABLE_COLUMNS:
        raise InvalidInputError(f"unknown contest table {kind!r}")
    required = TABLE_COLUMNS[kind] if kind != "user" else (KEY,)
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InvalidInputError(f"{kind}: missing column(s) {', '.join(missing)}")
    checks: list[tuple[pl.Expr, str]] = [(pl.col(KEY).is_null(), f"{KEY} is empty")]
    if kind in ("voc", "sms"):
        stamp = "start_datetime" if kind == "voc" else "request_datetime"
        allowed = ["1", "2", "3"] if kind == "voc" else ["1", "2"]
        checks.append((~pl.col("calltype_id").cast(pl.String).is_in(allowed), "bad calltype_id"))
        parsed = pl.col(stamp).cast(pl.String).str.to_datetime(_TIMESTAMP_FORMAT, strict=False)
        checks.append((parsed.is_null(), f"{stamp} is not YYYY-mm-dd HH:MM:SS"))
    if kind == "voc":
        dur = pl.col("call_dur").cast(pl.String).cast(pl.Float64, strict=False)
        checks.append((dur.is_null() | (dur < 0), "call_dur is not a non-negative number"))
    if kind == "app":
        flow = pl.col("flow").cast(pl.String).cast(pl.Float64, strict=False)
        checks.append((pl.col("flow").is_not_null() & flow.is_null(), "flow is not a number"))
    reason: pl.Expr = pl.lit(None, pl.String)
    for bad, text in reversed(checks):
        reason = pl.when(bad).then(pl.lit(text)).otherwise(reason)
    marked = raw.with_columns(
        reason.alias("_reason"),
        pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64).alias("_line"),
    )
    rejected = marked.filter(pl.col("_reason").is_not_null()).select(
        pl.col("_line").alias("line"),
        pl.lit(kind).alias("table"),
        pl.col("_reason").alias("reason"),
    )
    accepted = marked.filter(pl.col("_reason").is_null()).drop("_reason", "_line")
    return accepted, rejected


class SichuanAccumulator:
    """Incremental use of the same feature definitions: refresh only the numbers that changed.

    Rows arrive in batches (an hour of calls, a day of SMS); each :meth:`update` stores them and
    returns the 55 features of the numbers the batch touched, computed by
    :func:`sichuan_features` over everything seen so far for those numbers, so incremental and
    batch results are identical by construction. ``user`` rows are snapshots: a newer row for a
    number replaces the older one.

    Examples
    --------
    >>> import polars as pl
    >>> acc = SichuanAccumulator()
    >>> batch = {"phone_no_m": ["a"], "opposite_no_m": ["x"], "calltype_id": [1],
    ...     "request_datetime": ["2020-01-01 08:00:00"]}
    >>> acc.update(sms=pl.DataFrame(batch))["sms_count"].to_list()
    [1.0]
    >>> batch["opposite_no_m"] = ["y"]
    >>> acc.update(sms=pl.DataFrame(batch))["sms_nunique"].to_list()
    [2.0]
    """

    def __init__(self) -> None:
        self._tables: dict[str, pl.DataFrame] = {}

    def update(
        self,
        *,
        voc: pl.DataFrame | None = None,
        sms: pl.DataFrame | None = None,
        app: pl.DataFrame | None = None,
        user: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """Store a batch and return the refreshed features of the numbers it touched."""
        touched: set[str] = set()
        for kind, batch in (("voc", voc), ("sms", sms), ("app", app), ("user", user)):
            if batch is None or batch.height == 0:
                continue
            batch = batch.with_columns(pl.col(KEY).cast(pl.String))
            touched.update(batch[KEY].drop_nulls().to_list())
            stored = self._tables.get(kind)
            if stored is None:
                self._tables[kind] = batch
            elif kind == "user":
                kept = stored.filter(~pl.col(KEY).is_in(batch[KEY].implode()))
                self._tables[kind] = pl.concat([kept, batch], how="diagonal_relaxed")
            else:
                self._tables[kind] = pl.concat([stored, batch], how="diagonal_relaxed")
        return self._features(touched)

    def features(self) -> pl.DataFrame:
        """The features of every number seen so far."""
        return self._features(None)

    def _features(self, numbers: set[str] | None) -> pl.DataFrame:
        def part(kind: str) -> pl.LazyFrame | None:
            table = self._tables.get(kind)
            if table is None:
                return None
            lazy = table.lazy()
            if numbers is not None:
                lazy = lazy.filter(pl.col(KEY).is_in(sorted(numbers)))
            return lazy

        return sichuan_features(part("voc"), part("sms"), part("app"), part("user")).collect()
