"""The wider windowed signal set of domain.md section c over canonical records.

What belongs here: per-``msisdn`` signals over a time window that ends at a given instant,
written once as Polars expressions. Batch use passes the whole period's records and one
``end_at``; incremental use calls :func:`signals` again as ``end_at`` advances (each call only
reads records before ``end_at``, so a replay never sees the future). :func:`windowed_signals`
evaluates the standard windows (1 h, 24 h, 7 d) and suffixes the columns.

Signals (domain.md c numbering), per subscriber that placed or received a call in the window:

==========================  =======================================================  ======
column                      meaning                                                  signal
==========================  =======================================================  ======
out_calls                   outbound call attempts                                   S1
max_calls_10min             most outbound attempts in one 10-minute bucket (burst)   S1
out_share                   outbound / (outbound + inbound) attempts                 S2
callee_ratio                distinct callees / outbound attempts                     S3
strangers_share             share of distinct callees with no contact before window  S3
callback_rate               share of distinct callees who called back in the window  S4
answer_rate                 answered / outbound attempts                             S5
mean_ring_s                 mean ring time of outbound attempts                      S5
mean_duration_s             mean duration of answered outbound calls                 S7
duration_cv                 coefficient of variation of answered durations           S7
short_share, long_share     answered calls under 10 s / over 600 s                   S7
gap_mean_s, gap_cv          mean and CV of gaps between outbound attempts            S8
night_share                 outbound attempts 22:00-06:00 Beijing time               S9
active_hours                distinct Beijing hours with outbound attempts            S9
callee_cells                distinct serving cells of on-net callees (spread)        S10
cells                       distinct cells the card called from                      S11
top_cell_share              share of outbound attempts from the busiest cell         S11
imeis                       distinct handsets (IMEI) the card used                   S12
max_sims_on_imei            most distinct IMSIs seen on any of those handsets        S12
inbound_answered            answered inbound calls                                   S14
sms_in                      SMS received                                             S14
data_mb                     data volume                                              S14
card_age_days               days from activation to ``end_at``                       S15
dormant_days                days between the last activity before the window and     S15
                            the first in it (null when none before)
cards_per_id                cards registered on the same ID document                 S16
outlet_day_cards            cards the same outlet activated on the same day           S16
intl_in_calls               inbound calls arriving on international ingress          S17
==========================  =======================================================  ======
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

WINDOWS_S: Mapping[str, int] = {"1h": 3_600, "24h": 86_400, "7d": 604_800}
"""The standard windows, by suffix."""

LOCAL_TZ = "Asia/Shanghai"

SIGNAL_NAMES: tuple[str, ...] = (
    "out_calls",
    "max_calls_10min",
    "out_share",
    "callee_ratio",
    "strangers_share",
    "callback_rate",
    "answer_rate",
    "mean_ring_s",
    "mean_duration_s",
    "duration_cv",
    "short_share",
    "long_share",
    "gap_mean_s",
    "gap_cv",
    "night_share",
    "active_hours",
    "callee_cells",
    "cells",
    "top_cell_share",
    "imeis",
    "max_sims_on_imei",
    "inbound_answered",
    "sms_in",
    "data_mb",
    "card_age_days",
    "dormant_days",
    "cards_per_id",
    "outlet_day_cards",
    "intl_in_calls",
)
"""Signal columns, in output order (after ``msisdn``)."""


def _between(column: str, start: dt.datetime, end: dt.datetime) -> pl.Expr:
    return (pl.col(column) >= start) & (pl.col(column) < end)


def signals(
    calls: pl.LazyFrame,
    end_at: dt.datetime,
    window_s: int,
    *,
    sms: pl.LazyFrame | None = None,
    usage: pl.LazyFrame | None = None,
    subscribers: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Signals per subscriber over ``[end_at - window_s, end_at)``.

    Parameters
    ----------
    calls : polars.LazyFrame
        Canonical calls (``CALLS_SCHEMA``); records at or after ``end_at`` are ignored, those
        before the window serve as history (strangers, dormancy).
    end_at : datetime
        UTC-aware end of the window (exclusive).
    window_s : int
        Window length in seconds.
    sms, usage, subscribers : polars.LazyFrame or None
        Canonical SMS, usage and subscribers; their signals are null when absent.

    Returns
    -------
    polars.LazyFrame
        ``msisdn`` and :data:`SIGNAL_NAMES`, one row per subscriber active in the window
        (a subscriber is a caller with an IMSI, or a row of ``subscribers``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 3, 1, 14, tzinfo=dt.UTC)  # 22:00 in Beijing
    >>> calls = pl.LazyFrame({
    ...     "caller": ["a", "a", "b"], "callee": ["b", "c", "a"],
    ...     "start_at": [t0, t0 + dt.timedelta(minutes=20), t0 + dt.timedelta(minutes=30)],
    ...     "ring_s": [5, 20, 3], "duration_s": [60, 0, 30], "answered": [True, False, True],
    ...     "ingress": ["on_net"] * 3, "cell_id": ["x", "x", "y"], "imei": ["i", "i", "j"],
    ...     "imsi": ["s1", "s1", "s2"], "callee_cell_id": ["y", None, "x"]})
    >>> out = signals(calls, t0 + dt.timedelta(hours=1), 3600).collect()
    >>> a = out.filter(pl.col("msisdn") == "a").row(0, named=True)
    >>> a["out_calls"], a["answer_rate"], a["callback_rate"], a["night_share"], a["gap_mean_s"]
    (2, 0.5, 0.5, 1.0, 1200.0)
    """
    start_at = end_at - dt.timedelta(seconds=window_s)
    past = calls.filter(pl.col("start_at") < end_at)
    window = past.filter(pl.col("start_at") >= start_at)
    history = past.filter(pl.col("start_at") < start_at)
    local = pl.col("start_at").dt.convert_time_zone(LOCAL_TZ)

    outbound = window.filter(pl.col("imsi").is_not_null()).with_columns(
        (pl.col("start_at").dt.epoch("ms") / 1000.0).alias("_t"),
        local.dt.hour().alias("_hour"),
    )
    answered_dur = pl.col("duration_s").filter(pl.col("answered")).cast(pl.Float64)
    out_agg = (
        outbound.sort("start_at")
        .group_by(pl.col("caller").alias("msisdn"))
        .agg(
            pl.len().alias("out_calls"),
            pl.col("callee").n_unique().alias("_distinct_callees"),
            pl.col("answered").mean().alias("answer_rate"),
            pl.col("ring_s").cast(pl.Float64).mean().alias("mean_ring_s"),
            answered_dur.mean().alias("mean_duration_s"),
            (answered_dur.std() / answered_dur.mean()).alias("duration_cv"),
            (answered_dur < 10).mean().alias("short_share"),
            (answered_dur > 600).mean().alias("long_share"),
            pl.col("_t").diff().mean().alias("gap_mean_s"),
            (pl.col("_t").diff().std() / pl.col("_t").diff().mean()).alias("gap_cv"),
            ((pl.col("_hour") >= 22) | (pl.col("_hour") < 6)).mean().alias("night_share"),
            pl.col("_hour").n_unique().alias("active_hours"),
            pl.col("callee_cell_id").drop_nulls().n_unique().alias("callee_cells"),
            pl.col("cell_id").drop_nulls().n_unique().alias("cells"),
            (
                pl.col("cell_id").drop_nulls().value_counts(sort=True).first().struct.field("count")
            ).alias("_top_cell_calls"),
            pl.col("imei").drop_nulls().n_unique().alias("imeis"),
            (pl.col("start_at").dt.truncate("10m").value_counts(sort=True).first())
            .struct.field("count")
            .alias("max_calls_10min"),
            pl.col("start_at").min().alias("_first_at"),
        )
    )
    out_agg = out_agg.with_columns(
        (pl.col("_distinct_callees") / pl.col("out_calls")).alias("callee_ratio"),
        (pl.col("_top_cell_calls") / pl.col("out_calls")).alias("top_cell_share"),
    )

    inbound = window.group_by(pl.col("callee").alias("msisdn")).agg(
        pl.len().alias("_in_calls"),
        pl.col("answered").sum().alias("inbound_answered"),
        (pl.col("ingress") == "international").sum().alias("intl_in_calls"),
    )

    # Strangers: callees with no call either way before the window.
    pairs_before = pl.concat(
        [
            history.select(pl.col("caller").alias("msisdn"), pl.col("callee").alias("other")),
            history.select(pl.col("callee").alias("msisdn"), pl.col("caller").alias("other")),
        ]
    ).unique()
    callees = outbound.select(pl.col("caller").alias("msisdn"), pl.col("callee").alias("other"))
    callees = callees.unique()
    strangers = (
        callees.join(
            pairs_before.with_columns(pl.lit(True).alias("_known")),
            on=["msisdn", "other"],
            how="left",
        )
        .group_by("msisdn")
        .agg(pl.col("_known").is_null().mean().alias("strangers_share"))
    )
    # Callback: a callee who later called the caller within the window.
    first_out = outbound.group_by(
        pl.col("caller").alias("msisdn"), pl.col("callee").alias("other")
    ).agg(pl.col("start_at").min().alias("_called_at"))
    back = window.group_by(pl.col("callee").alias("msisdn"), pl.col("caller").alias("other")).agg(
        pl.col("start_at").max().alias("_back_at")
    )
    callbacks = (
        first_out.join(back, on=["msisdn", "other"], how="left")
        .group_by("msisdn")
        .agg(
            (pl.col("_back_at") > pl.col("_called_at"))
            .fill_null(False)
            .mean()
            .alias("callback_rate")
        )
    )
    sims = (
        outbound.filter(pl.col("imei").is_not_null())
        .group_by("imei")
        .agg(pl.col("imsi").n_unique().alias("_sims"), pl.col("caller").unique().alias("_cards"))
        .explode("_cards")
        .group_by(pl.col("_cards").alias("msisdn"))
        .agg(pl.col("_sims").max().alias("max_sims_on_imei"))
    )
    last_before = (
        history.filter(pl.col("imsi").is_not_null())
        .group_by(pl.col("caller").alias("msisdn"))
        .agg(pl.col("start_at").max().alias("_last_before"))
    )

    out = (
        out_agg.join(inbound, on="msisdn", how="full", coalesce=True)
        .join(strangers, on="msisdn", how="left")
        .join(callbacks, on="msisdn", how="left")
        .join(sims, on="msisdn", how="left")
        .join(last_before, on="msisdn", how="left")
        .with_columns(
            (
                pl.col("out_calls").fill_null(0)
                / (pl.col("out_calls").fill_null(0) + pl.col("_in_calls").fill_null(0))
            ).alias("out_share"),
            ((pl.col("_first_at") - pl.col("_last_before")).dt.total_seconds() / 86_400).alias(
                "dormant_days"
            ),
        )
    )
    if sms is not None:
        sms_in = (
            sms.filter(_between("sent_at", start_at, end_at))
            .group_by(pl.col("recipient").alias("msisdn"))
            .agg(pl.len().alias("sms_in"))
        )
        out = out.join(sms_in, on="msisdn", how="left").with_columns(pl.col("sms_in").fill_null(0))
    else:
        out = out.with_columns(pl.lit(None, pl.UInt32).alias("sms_in"))
    if usage is not None:
        data = (
            usage.filter(_between("start_at", start_at, end_at))
            .group_by("msisdn")
            .agg(pl.col("flow_mb").sum().alias("data_mb"))
        )
        out = out.join(data, on="msisdn", how="left").with_columns(pl.col("data_mb").fill_null(0.0))
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("data_mb"))
    if subscribers is not None:
        subs = subscribers.with_columns(
            pl.len().over("id_doc_hash").alias("cards_per_id"),
            pl.len()
            .over("sales_outlet", pl.col("activated_at").dt.convert_time_zone(LOCAL_TZ).dt.date())
            .alias("outlet_day_cards"),
            ((pl.lit(end_at) - pl.col("activated_at")).dt.total_seconds() / 86_400).alias(
                "card_age_days"
            ),
        ).select("msisdn", "cards_per_id", "outlet_day_cards", "card_age_days")
        out = out.join(subs, on="msisdn", how="inner")
    else:
        out = out.filter(pl.col("out_calls").is_not_null()).with_columns(
            pl.lit(None, pl.UInt32).alias("cards_per_id"),
            pl.lit(None, pl.UInt32).alias("outlet_day_cards"),
            pl.lit(None, pl.Float64).alias("card_age_days"),
        )
    counts = ("out_calls", "inbound_answered", "intl_in_calls", "max_calls_10min")
    return out.with_columns(pl.col(c).fill_null(0) for c in counts).select("msisdn", *SIGNAL_NAMES)


def windowed_signals(
    calls: pl.LazyFrame,
    end_at: dt.datetime,
    windows: Mapping[str, int] = WINDOWS_S,
    **tables: pl.LazyFrame | None,
) -> pl.LazyFrame:
    """:func:`signals` over several windows ending at ``end_at``, columns suffixed ``_1h`` etc.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from telewarden.core.records import CALLS_SCHEMA
    >>> empty = pl.LazyFrame(schema=CALLS_SCHEMA)
    >>> cols = windowed_signals(empty, dt.datetime(2026, 3, 1, tzinfo=dt.UTC)).collect_schema()
    >>> cols.names()[:3], len(cols)
    (['msisdn', 'out_calls_1h', 'max_calls_10min_1h'], 88)
    """
    out: pl.LazyFrame | None = None
    for suffix, window_s in windows.items():
        part = signals(calls, end_at, window_s, **tables)
        part = part.rename({n: f"{n}_{suffix}" for n in SIGNAL_NAMES})
        out = part if out is None else out.join(part, on="msisdn", how="full", coalesce=True)
    assert out is not None
    return out
