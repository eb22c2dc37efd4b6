"""The windowed signals of ``telewarden.core.features.signals`` as Spark transformations.

Same definitions, column for column, as the Polars module (its docstring lists them with their
domain.md numbers); the conformance test (``tests/spark``) runs both on a simulated carrier.
Written out in Spark columns rather than declared, because most signals are not one aggregate
per number: gaps between consecutive calls (a window function), the busiest 10-minute bucket
and cell (counts, then a maximum), strangers and callbacks (joins against earlier or later
calls), handsets shared between cards (a join through the IMEI). Points that need care:

- times are instants; Beijing hours come from ``from_utc_timestamp``, the 10-minute buckets
  from whole epoch seconds, as Polars truncates an aware UTC timestamp;
- Polars' ``total_seconds()`` truncates to whole seconds before the division by 86,400, so
  ``dormant_days`` and ``card_age_days`` do too;
- a card's gaps are taken in time order (equal times give zero gaps in either order), over
  times truncated to whole milliseconds as the Polars version takes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from telewarden.core.features.signals import LOCAL_TZ, SIGNAL_NAMES, WINDOWS_S

__all__ = ["signals", "windowed_signals"]


def _micros(column: str | Column) -> Column:
    return F.unix_micros(F.col(column) if isinstance(column, str) else column)


def _whole_seconds_between(later: Column, earlier: Column) -> Column:
    """Whole seconds from ``earlier`` to ``later``, truncated toward zero (Polars)."""
    micros = _micros(later) - _micros(earlier)
    return F.when(micros >= 0, F.floor(micros / 1_000_000)).otherwise(F.ceil(micros / 1_000_000))


def _lit_time(at: dt.datetime) -> Column:
    # From text, read in the session time zone (UTC): a Python datetime literal would be
    # converted through the driver's local time zone.
    text = at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return F.lit(text).cast("timestamp")


def signals(
    calls: DataFrame,
    end_at: dt.datetime,
    window_s: int,
    *,
    sms: DataFrame | None = None,
    usage: DataFrame | None = None,
    subscribers: DataFrame | None = None,
) -> DataFrame:
    """Signals per subscriber over ``[end_at - window_s, end_at)`` (see the Polars version).

    The session time zone must be UTC (``telewarden.adapters.spark.session``): ``end_at`` is
    passed as a UTC wall-clock literal.
    """
    start = end_at - dt.timedelta(seconds=window_s)
    end_lit, start_lit = _lit_time(end_at), _lit_time(start)
    past = calls.where(F.col("start_at") < end_lit)
    window = past.where(F.col("start_at") >= start_lit)
    history = past.where(F.col("start_at") < start_lit)
    hour = F.hour(F.from_utc_timestamp(F.col("start_at"), LOCAL_TZ))

    outbound = window.where(F.col("imsi").isNotNull()).select(
        F.col("caller").alias("msisdn"),
        "callee",
        "start_at",
        "ring_s",
        "duration_s",
        "answered",
        "cell_id",
        "callee_cell_id",
        "imei",
        "imsi",
        hour.alias("_hour"),
        # whole milliseconds times 0.001, as Polars computes epoch("ms") / 1000.0 (it multiplies
        # by the reciprocal, which differs from a division in the last bit for 15 % of times)
        (F.unix_millis(F.col("start_at")).cast("double") * F.lit(0.001)).alias("_t"),
    )
    by_time = Window.partitionBy("msisdn").orderBy("start_at")
    outbound = outbound.withColumn("_gap", F.col("_t") - F.lag("_t").over(by_time))
    answered_dur = F.when(F.col("answered"), F.col("duration_s").cast("double"))
    out_agg = outbound.groupBy("msisdn").agg(
        F.count("*").alias("out_calls"),
        F.countDistinct("callee").alias("_distinct_callees"),
        F.avg(F.col("answered").cast("double")).alias("answer_rate"),
        F.avg(F.col("ring_s").cast("double")).alias("mean_ring_s"),
        F.avg(answered_dur).alias("mean_duration_s"),
        (F.stddev_samp(answered_dur) / F.avg(answered_dur)).alias("duration_cv"),
        F.avg(F.when(F.col("answered"), (answered_dur < 10).cast("double"))).alias("short_share"),
        F.avg(F.when(F.col("answered"), (answered_dur > 600).cast("double"))).alias("long_share"),
        F.avg("_gap").alias("gap_mean_s"),
        (F.stddev_samp("_gap") / F.avg("_gap")).alias("gap_cv"),
        F.avg(((F.col("_hour") >= 22) | (F.col("_hour") < 6)).cast("double")).alias("night_share"),
        F.countDistinct("_hour").alias("active_hours"),
        F.countDistinct("callee_cell_id").alias("callee_cells"),
        F.countDistinct("cell_id").alias("cells"),
        F.countDistinct("imei").alias("imeis"),
        F.min("start_at").alias("_first_at"),
    )
    top_cell = (
        outbound.where(F.col("cell_id").isNotNull())
        .groupBy("msisdn", "cell_id")
        .count()
        .groupBy("msisdn")
        .agg(F.max("count").alias("_top_cell_calls"))
    )
    bucket = F.floor(_micros("start_at") / 600_000_000)
    busiest = (
        outbound.groupBy("msisdn", bucket.alias("_bucket"))
        .count()
        .groupBy("msisdn")
        .agg(F.max("count").alias("max_calls_10min"))
    )
    out_agg = (
        out_agg.join(top_cell, on="msisdn", how="left")
        .join(busiest, on="msisdn", how="left")
        .withColumn("callee_ratio", F.col("_distinct_callees") / F.col("out_calls"))
        .withColumn("top_cell_share", F.col("_top_cell_calls") / F.col("out_calls"))
    )

    inbound = window.groupBy(F.col("callee").alias("msisdn")).agg(
        F.count("*").alias("_in_calls"),
        F.sum(F.col("answered").cast("long")).alias("inbound_answered"),
        F.sum((F.col("ingress") == "international").cast("long")).alias("intl_in_calls"),
    )

    # Strangers: callees with no call either way before the window.
    pairs_before = (
        history.select(F.col("caller").alias("msisdn"), F.col("callee").alias("other"))
        .unionByName(
            history.select(F.col("callee").alias("msisdn"), F.col("caller").alias("other"))
        )
        .distinct()
        .withColumn("_known", F.lit(True))
    )
    callees = outbound.select("msisdn", F.col("callee").alias("other")).distinct()
    strangers = (
        callees.join(pairs_before, on=["msisdn", "other"], how="left")
        .groupBy("msisdn")
        .agg(F.avg(F.col("_known").isNull().cast("double")).alias("strangers_share"))
    )
    # Callback: a callee who later called the caller within the window.
    first_out = outbound.groupBy("msisdn", F.col("callee").alias("other")).agg(
        F.min("start_at").alias("_called_at")
    )
    back = window.groupBy(F.col("callee").alias("msisdn"), F.col("caller").alias("other")).agg(
        F.max("start_at").alias("_back_at")
    )
    callbacks = (
        first_out.join(back, on=["msisdn", "other"], how="left")
        .groupBy("msisdn")
        .agg(
            F.avg(
                F.coalesce(F.col("_back_at") > F.col("_called_at"), F.lit(False)).cast("double")
            ).alias("callback_rate")
        )
    )
    with_imei = outbound.where(F.col("imei").isNotNull())
    sims_per_imei = with_imei.groupBy("imei").agg(F.countDistinct("imsi").alias("_sims"))
    sims = (
        with_imei.select("imei", "msisdn")
        .distinct()
        .join(sims_per_imei, on="imei")
        .groupBy("msisdn")
        .agg(F.max("_sims").alias("max_sims_on_imei"))
    )
    last_before = (
        history.where(F.col("imsi").isNotNull())
        .groupBy(F.col("caller").alias("msisdn"))
        .agg(F.max("start_at").alias("_last_before"))
    )
    out = (
        out_agg.join(inbound, on="msisdn", how="full")
        .join(strangers, on="msisdn", how="left")
        .join(callbacks, on="msisdn", how="left")
        .join(sims, on="msisdn", how="left")
        .join(last_before, on="msisdn", how="left")
    )
    outs = F.coalesce(F.col("out_calls"), F.lit(0)).cast("double")
    ins = F.coalesce(F.col("_in_calls"), F.lit(0)).cast("double")
    out = out.withColumn("out_share", outs / (outs + ins)).withColumn(
        "dormant_days", _whole_seconds_between(F.col("_first_at"), F.col("_last_before")) / 86_400
    )
    if sms is not None:
        sms_in = (
            sms.where((F.col("sent_at") >= start_lit) & (F.col("sent_at") < end_lit))
            .groupBy(F.col("recipient").alias("msisdn"))
            .agg(F.count("*").alias("sms_in"))
        )
        out = out.join(sms_in, on="msisdn", how="left").fillna(0, subset=["sms_in"])
    else:
        out = out.withColumn("sms_in", F.lit(None).cast("long"))
    if usage is not None:
        data = (
            usage.where((F.col("start_at") >= start_lit) & (F.col("start_at") < end_lit))
            .groupBy("msisdn")
            .agg(F.sum("flow_mb").alias("data_mb"))
        )
        out = out.join(data, on="msisdn", how="left").fillna(0.0, subset=["data_mb"])
    else:
        out = out.withColumn("data_mb", F.lit(None).cast("double"))
    if subscribers is not None:
        local_day = F.to_date(F.from_utc_timestamp(F.col("activated_at"), LOCAL_TZ))
        subs = subscribers.select(
            "msisdn",
            F.count("*").over(Window.partitionBy("id_doc_hash")).alias("cards_per_id"),
            F.count("*")
            .over(Window.partitionBy(F.col("sales_outlet"), local_day))
            .alias("outlet_day_cards"),
            (_whole_seconds_between(end_lit, F.col("activated_at")) / 86_400).alias(
                "card_age_days"
            ),
        )
        out = out.join(subs, on="msisdn", how="inner")
    else:
        out = out.where(F.col("out_calls").isNotNull()).select(
            "*",
            F.lit(None).cast("long").alias("cards_per_id"),
            F.lit(None).cast("long").alias("outlet_day_cards"),
            F.lit(None).cast("double").alias("card_age_days"),
        )
    counts = ["out_calls", "inbound_answered", "intl_in_calls", "max_calls_10min"]
    return out.fillna(0, subset=counts).select("msisdn", *SIGNAL_NAMES)


def windowed_signals(
    calls: DataFrame,
    end_at: dt.datetime,
    windows: Mapping[str, int] = WINDOWS_S,
    **tables: DataFrame | None,
) -> DataFrame:
    """:func:`signals` over several windows ending at ``end_at``, columns suffixed ``_1h`` etc."""
    out: DataFrame | None = None
    for suffix, window_s in windows.items():
        part = signals(calls, end_at, window_s, **tables)
        part = part.select("msisdn", *(F.col(n).alias(f"{n}_{suffix}") for n in SIGNAL_NAMES))
        out = part if out is None else out.join(part, on="msisdn", how="full")
    assert out is not None
    return out
