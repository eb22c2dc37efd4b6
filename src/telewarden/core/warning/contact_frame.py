"""The contacts of a batch of delivered calls and SMS as one table (the live loop's path).

:func:`contacts_frame` gives, row for row and in the same order, the :class:`Contact` facts
that :func:`~telewarden.core.warning.exposure.call_contacts` and
:func:`~telewarden.core.warning.exposure.sms_contacts` give one record at a time, computed on
columns: the callee's (or recipient's) contact first, then the caller's, then one per domain
or wallet an SMS names. ``is_subscriber`` and :func:`text_subjects` are asked once per
distinct number and text of the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from telewarden.core.warning.exposure import (
    NAMING_HINT,
    SPOOF_SUFFIX,
    Contact,
    ContactKind,
    text_subjects,
)

__all__ = ["CONTACT_FRAME_SCHEMA", "contacts_frame", "contacts_of_rows"]

CONTACT_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "_seq": pl.Int64(),  # the record's row in the input
    "msisdn": pl.String(),
    "subject": pl.String(),
    "kind": pl.String(),
    "known_at": pl.Datetime("us", "UTC"),
    "duration_s": pl.Int64(),
    "record_kind": pl.String(),
    "record_id": pl.Int64(),
}


def contacts_frame(
    records: pl.DataFrame, is_subscriber: Callable[[str], bool] | pl.Series
) -> pl.DataFrame:
    """The contacts of ``records`` (loop events: ``channel, at, caller, callee, ingress,
    ring_s, duration_s, answered, text`` and ``record_id``), in record order.

    ``is_subscriber`` is asked once per distinct number; given as the subscribers' numbers
    (a Series), they are matched on the column instead, without a Python call per number.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    >>> records = pl.DataFrame({"channel": ["call", "sms"], "at": [t, t],
    ...     "caller": ["+23225848160", "+8617000000000"],
    ...     "callee": ["+8613800000001", "+8613800000001"], "ingress": ["international", None],
    ...     "ring_s": [2, None], "duration_s": [0, None], "answered": [False, None],
    ...     "text": [None, "see http://etc-renz.com"], "record_id": [1, 2]})
    >>> contacts_frame(records, lambda n: n.startswith("+8613")).select(
    ...     "msisdn", "subject", "kind").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('+8613800000001', '+23225848160', 'missed_call'),
     ('+8613800000001', '+8617000000000', 'sms'),
     ('+8613800000001', 'etc-renz.com', 'link')]
    """
    schema = CONTACT_FRAME_SCHEMA
    if not records.height:
        return pl.DataFrame(schema=schema)
    frame = records.with_row_index("_seq").with_columns(
        pl.col("_seq").cast(pl.Int64), pl.col("at").cast(schema["known_at"])
    )
    numbers = pl.concat([frame.get_column("caller"), frame.get_column("callee")]).unique()
    numbers = numbers.drop_nulls()
    if isinstance(is_subscriber, pl.Series):
        asked = numbers.is_in(is_subscriber.implode())
    else:
        # One call per distinct number, in C (map), and only a mask goes back to Polars.
        asked = pl.Series(list(map(is_subscriber, numbers.to_list())), dtype=pl.Boolean)
    subscribers = numbers.filter(asked).implode()
    frame = frame.with_columns(
        pl.col("caller").is_in(subscribers).fill_null(False).alias("_caller_sub"),
        pl.col("callee").is_in(subscribers).fill_null(False).alias("_callee_sub"),
    )
    calls = frame.filter(pl.col("channel") == "call")
    answered = pl.col("answered").fill_null(False)
    talk = pl.when(answered).then(pl.col("duration_s").fill_null(0)).otherwise(0).cast(pl.Int64)
    calls = calls.with_columns(
        talk.alias("_talk"),
        (
            pl.col("at") + pl.duration(seconds=pl.col("ring_s").fill_null(0).cast(pl.Int64) + talk)
        ).alias("_known"),
    )
    caller = pl.col("caller")
    spoofed = (pl.col("ingress") == "international").fill_null(False) & (
        caller.str.starts_with("+86") | ~caller.str.starts_with("+")
    )
    parts = [
        calls.filter("_callee_sub").select(
            "_seq",
            pl.lit(0).alias("_part"),
            pl.col("callee").alias("msisdn"),
            pl.when(spoofed).then(caller + SPOOF_SUFFIX).otherwise(caller).alias("subject"),
            pl.when(answered)
            .then(pl.lit(ContactKind.ANSWERED_CALL.value))
            .otherwise(pl.lit(ContactKind.MISSED_CALL.value))
            .alias("kind"),
            pl.col("_known").alias("known_at"),
            pl.col("_talk").alias("duration_s"),
            pl.lit("call").alias("record_kind"),
            "record_id",
        ),
        calls.filter("_caller_sub").select(
            "_seq",
            pl.lit(1).alias("_part"),
            pl.col("caller").alias("msisdn"),
            pl.col("callee").alias("subject"),
            pl.lit(ContactKind.CALLBACK.value).alias("kind"),
            pl.col("_known").alias("known_at"),
            pl.col("_talk").alias("duration_s"),
            pl.lit("call").alias("record_kind"),
            "record_id",
        ),
    ]
    sms = frame.filter((pl.col("channel") != "call") & pl.col("_callee_sub"))
    sms_columns: list[pl.Expr | str] = [
        pl.col("callee").alias("msisdn"),
        pl.col("at").alias("known_at"),
        pl.lit(0, pl.Int64).alias("duration_s"),
        pl.lit("sms").alias("record_kind"),
        "record_id",
    ]
    parts.append(
        sms.select(
            "_seq",
            pl.lit(0).alias("_part"),
            pl.col("caller").alias("subject"),
            pl.lit(ContactKind.SMS.value).alias("kind"),
            *sms_columns,
        )
    )
    # Only the texts NAMING_HINT finds can name anything: the regexes run on those alone.
    text = sms.get_column("text").unique().drop_nulls()
    texts = text.filter(text.str.contains(NAMING_HINT)).to_list()
    # The link table flat (text, subject, its place in the text): a list column built from
    # Python lists costs a Series per text.
    flat: tuple[list[str], list[str], list[int]] = ([], [], [])
    for t in texts:
        for place, (subject, _kind) in enumerate(text_subjects(t), start=2):
            flat[0].append(t)
            flat[1].append(subject)
            flat[2].append(place)
    if flat[0]:
        table = pl.DataFrame(
            {"text": flat[0], "subject": flat[1], "_part": flat[2]},
            schema={"text": pl.String, "subject": pl.String, "_part": pl.Int64},
        )
        parts.append(
            sms.join(table, on="text", how="inner").select(
                "_seq",
                "_part",
                "subject",
                pl.lit(ContactKind.LINK.value).alias("kind"),
                *sms_columns,
            )
        )
    out = pl.concat(
        [
            p.select("_seq", pl.col("_part").cast(pl.Int64), *list(schema)[1:]).cast(
                schema  # type: ignore[arg-type]
            )
            for p in parts
        ],
        how="vertical",
    )
    return (
        out.filter(pl.col("msisdn").is_not_null() & pl.col("subject").is_not_null())
        .sort("_seq", "_part")
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


def contacts_of_rows(rows: pl.DataFrame) -> list[Contact]:
    """The :class:`Contact` objects of some rows of :func:`contacts_frame`."""
    return [
        Contact(msisdn, subject, ContactKind(kind), known_at, duration, record_kind, record_id)
        for msisdn, subject, kind, known_at, duration, record_kind, record_id in rows.select(
            "msisdn", "subject", "kind", "known_at", "duration_s", "record_kind", "record_id"
        ).iter_rows()
    ]
