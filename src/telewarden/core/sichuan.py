"""Mapping between the canonical tables and the Sichuan contest's four raw tables.

The 2020 Sichuan fraud-call contest published models' inputs as four tables (see
``../shared/docs/sichuan-features.md``): ``user``, ``voc`` (calls), ``sms`` and ``app``. This
module maps canonical records to them and back, so a model trained on the contest's real
labels can score a carrier's (or the simulator's) records. Pure: frames in, frames out.

Canonical -> contest (``to_voc``, ``to_sms``, ``to_app``, ``to_user``):

* ``voc``: one row per answered call **per subscriber side**. The caller's row has
  ``calltype_id = 1`` and the callee as ``opposite_no_m``; the callee's row (when the callee is
  also a subscriber) has ``calltype_id = 2``. An on-net to on-net call therefore gives two rows,
  as in the contest, where both parties are users. Unanswered attempts are left out: the
  contest's ``call_dur`` has no zero-second attempts we know of (assumption, see the docs).
  ``start_datetime`` is Beijing local time ``YYYY-MM-DD HH:MM:SS``; ``city_name`` and
  ``county_name`` are those of the subscriber's serving cell at the time (``cell_id`` for the
  caller, ``callee_cell_id`` for the callee); ``imei_m`` is the caller's IMEI on outgoing rows
  and empty on incoming rows (the published features only use IMEIs of outgoing calls).
* ``sms``: one row per subscriber side, ``calltype_id`` 1 = sent, 2 = received, Beijing time.
* ``app``: usage summed per subscriber, app (``busi_name``) and Beijing month
  (``month_id`` ``YYYY-MM``), ``flow`` in MB.
* ``user``: home ``city_name``/``county_name``, ``idcard_cnt`` = cards registered on the same
  identity document, and eight ``arpu_*`` months. The simulator knows one monthly ARPU; it is
  written into every contest month from the card's activation month on, aligned so that the
  last column (``arpu_202003``) is the simulated month; earlier months are empty (a new card has
  one month, as the contest's fraud cards often do). ``label`` is 1 for numbers in the
  ground truth (``truth_cards``, on-net) and 0 otherwise.

Numbers are written as they are (``+8613812345678``) unless a ``salt`` is given, in which case
they are replaced by ``sha256(salt + number)`` in hex, like the contest's hashed numbers.

Contest -> canonical (``from_voc``, ``from_sms``, ``from_app``, ``from_user``) is best effort:
the contest lacks ingress, ring time, cells and exact IDs, which stay null.

Examples
--------
>>> ARPU_MONTHS[-1], len(USER_COLUMNS)
('arpu_202003', 13)
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from telewarden.core.records import CALLS_SCHEMA, SMS_SCHEMA, USAGE_SCHEMA, Ingress

__all__ = [
    "APP_COLUMNS",
    "ARPU_MONTHS",
    "SMS_COLUMNS",
    "USER_COLUMNS",
    "VOC_COLUMNS",
    "SichuanMapper",
    "from_app",
    "from_sms",
    "from_user",
    "from_voc",
]

ARPU_MONTHS: tuple[str, ...] = (
    "arpu_201908",
    "arpu_201909",
    "arpu_201910",
    "arpu_201911",
    "arpu_201912",
    "arpu_202001",
    "arpu_202002",
    "arpu_202003",
)
USER_COLUMNS: tuple[str, ...] = (
    "phone_no_m",
    "city_name",
    "county_name",
    "idcard_cnt",
    *ARPU_MONTHS,
    "label",
)
VOC_COLUMNS: tuple[str, ...] = (
    "phone_no_m",
    "opposite_no_m",
    "calltype_id",
    "start_datetime",
    "call_dur",
    "city_name",
    "county_name",
    "imei_m",
)
SMS_COLUMNS: tuple[str, ...] = ("phone_no_m", "opposite_no_m", "calltype_id", "request_datetime")
APP_COLUMNS: tuple[str, ...] = ("phone_no_m", "busi_name", "flow", "month_id")

LOCAL_TIME_ZONE = "Asia/Shanghai"
"""The contest's local time: its timestamps and calendar days are Beijing wall-clock time."""
_FMT = "%Y-%m-%d %H:%M:%S"


class SichuanMapper:
    """Maps canonical frames to the contest's tables for one carrier's subscribers.

    Parameters
    ----------
    subscribers : pl.DataFrame
        The ``subscribers`` table: who is a "user" of the contest tables.
    cells : pl.DataFrame
        The ``cells`` table, for city and county names of serving cells.
    salt : str, optional
        When given, numbers are replaced by ``sha256(salt + number)``.

    Examples
    --------
    >>> import datetime as dt
    >>> from telewarden.core import records as r
    >>> at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    >>> subs = r.frame_from_records([r.SubscriberRecord("+8613800000001", "h", at, "四川", "成都",
    ...     "武侯区", "p", "o", "460000000000001", "353280110000001", "c1", 58.0)],
    ...     r.SUBSCRIBERS_SCHEMA)
    >>> cells = r.frame_from_records([r.CellRecord("c1", "四川", "成都", "武侯区", 30.6, 104.0)],
    ...     r.CELLS_SCHEMA)
    >>> call = r.CallRecord(1, "+8613800000001", "+8613900000002", at, 5, 61, True,
    ...     "normal_clearing", "on_net", "onnet", "c1", "353280110000001")
    >>> SichuanMapper(subs, cells).to_voc(r.frame_from_records([call], r.CALLS_SCHEMA)).row(0)
    ('+8613800000001', '+8613900000002', 1, '2026-03-02 09:00:00', 61, '成都', '武侯区', '353280110000001')
    """

    def __init__(
        self, subscribers: pl.DataFrame, cells: pl.DataFrame, salt: str | None = None
    ) -> None:
        self._subs = subscribers.select("msisdn").unique()
        self._cells = cells.select("cell_id", "city", "county")
        self.salt = salt
        self._cache: dict[str, str] = {}

    def number(self, column: pl.Series) -> pl.Series:
        """Numbers as written to the contest tables (hashed when a salt is set)."""
        if self.salt is None:
            return column
        todo = [v for v in column.unique().drop_nulls().to_list() if v not in self._cache]
        for v in todo:
            self._cache[v] = hashlib.sha256((self.salt + v).encode()).hexdigest()
        return column.replace_strict(self._cache, default=None, return_dtype=pl.String)

    def _hashed(self, frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
        if self.salt is None:
            return frame
        return frame.with_columns(self.number(frame[c]).alias(c) for c in columns)

    def to_voc(self, calls: pl.DataFrame) -> pl.DataFrame:
        """``voc`` rows for answered calls (see the module docstring)."""
        voc = (
            voc_sides(calls.lazy(), self._subs["msisdn"], self._cells.lazy(), keep=("id",))
            .with_columns(pl.col("start_datetime").dt.strftime(_FMT))
            .sort("id", "calltype_id")
            .drop("id")
            .collect()
        )
        return self._hashed(voc, "phone_no_m", "opposite_no_m")

    def to_sms(self, sms: pl.DataFrame) -> pl.DataFrame:
        """``sms`` rows, one per subscriber side."""
        out = (
            sms_sides(sms.lazy(), self._subs["msisdn"], keep=("id",))
            .with_columns(pl.col("request_datetime").dt.strftime(_FMT))
            .sort("id", "calltype_id")
            .drop("id")
            .collect()
        )
        return self._hashed(out, "phone_no_m", "opposite_no_m")

    @staticmethod
    def app_partial(usage: pl.DataFrame) -> pl.DataFrame:
        """Usage summed per number, app and Beijing month (unhashed; combine with ``to_app``)."""
        return usage.group_by(
            pl.col("msisdn"),
            pl.col("app"),
            pl.col("start_at")
            .dt.convert_time_zone(LOCAL_TIME_ZONE)
            .dt.strftime("%Y-%m")
            .alias("month"),
        ).agg(pl.col("flow_mb").sum())

    def to_app(self, partials: pl.DataFrame) -> pl.DataFrame:
        """``app`` rows from one or more concatenated ``app_partial`` results."""
        out = (
            partials.group_by("msisdn", "app", "month")
            .agg(pl.col("flow_mb").sum())
            .sort("msisdn", "app", "month")
            .select(
                pl.col("msisdn").alias("phone_no_m"),
                pl.col("app").alias("busi_name"),
                pl.col("flow_mb").round(3).alias("flow"),
                pl.col("month").alias("month_id"),
            )
        )
        return self._hashed(out, "phone_no_m")

    def to_user(
        self, subscribers: pl.DataFrame, truth_cards: pl.DataFrame | None, at: dt.datetime
    ) -> pl.DataFrame:
        """``user`` rows; ``at`` is the simulated month, written as ``arpu_202003``."""
        month_index = at.year * 12 + at.month - 1
        fraud = (
            truth_cards.filter(pl.col("on_net"))["msisdn"]
            if truth_cards is not None
            else pl.Series([], dtype=pl.String)
        )
        activated = pl.col("activated_at").dt.convert_time_zone(LOCAL_TIME_ZONE)
        months_back = pl.lit(month_index) - (
            activated.dt.year().cast(pl.Int64) * 12 + activated.dt.month().cast(pl.Int64) - 1
        )
        arpu = [
            pl.when(months_back >= len(ARPU_MONTHS) - 1 - k).then(pl.col("arpu_cny")).alias(name)
            for k, name in enumerate(ARPU_MONTHS)
        ]
        out = subscribers.with_columns(
            pl.len().over("id_doc_hash").cast(pl.Int64).alias("idcard_cnt")
        ).select(
            pl.col("msisdn").alias("phone_no_m"),
            pl.col("city").alias("city_name"),
            pl.col("county").alias("county_name"),
            pl.col("idcard_cnt"),
            *arpu,
            pl.col("msisdn").is_in(fraud.implode()).cast(pl.Int64).alias("label"),
        )
        return self._hashed(out, "phone_no_m")


def voc_sides(
    calls: pl.LazyFrame, subscribers: pl.Series, cells: pl.LazyFrame, *, keep: tuple[str, ...] = ()
) -> pl.LazyFrame:
    """The ``voc`` rows of answered calls, one per side that is one of ``subscribers``.

    The outgoing side (calltype 1) takes its place from the caller's cell and its handset; the
    incoming side (2) its place from ``callee_cell_id`` and no handset (only the caller's is
    known). ``start_datetime`` stays a Beijing-time Datetime (:meth:`SichuanMapper.to_voc`
    writes it as the contest's text); ``keep`` columns of ``calls`` are carried along.
    """
    answered = calls.filter(pl.col("answered").fill_null(False))
    places = cells.select("cell_id", "city", "county")
    members = subscribers.implode()

    def side(number: str, other: str, calltype: int, cell: str) -> pl.LazyFrame:
        rows = answered.filter(pl.col(number).is_in(members)).join(
            places, left_on=cell, right_on="cell_id", how="left"
        )
        imei = pl.col("imei") if calltype == 1 else pl.lit(None, pl.String)
        return rows.select(
            pl.col(number).alias("phone_no_m"),
            pl.col(other).alias("opposite_no_m"),
            pl.lit(calltype, pl.Int64).alias("calltype_id"),
            pl.col("start_at").dt.convert_time_zone(LOCAL_TIME_ZONE).alias("start_datetime"),
            pl.col("duration_s").cast(pl.Int64).alias("call_dur"),
            pl.col("city").alias("city_name"),
            pl.col("county").alias("county_name"),
            imei.alias("imei_m"),
            *keep,
        )

    return pl.concat(
        [side("caller", "callee", 1, "cell_id"), side("callee", "caller", 2, "callee_cell_id")]
    )


def sms_sides(
    sms: pl.LazyFrame, subscribers: pl.Series, *, keep: tuple[str, ...] = ()
) -> pl.LazyFrame:
    """The ``sms`` rows of messages, one per side that is one of ``subscribers`` (1 sent,
    2 received); ``request_datetime`` stays a Beijing-time Datetime (see :func:`voc_sides`)."""
    members = subscribers.implode()

    def side(number: str, other: str, calltype: int) -> pl.LazyFrame:
        return sms.filter(pl.col(number).is_in(members)).select(
            pl.col(number).alias("phone_no_m"),
            pl.col(other).alias("opposite_no_m"),
            pl.lit(calltype, pl.Int64).alias("calltype_id"),
            pl.col("sent_at").dt.convert_time_zone(LOCAL_TIME_ZONE).alias("request_datetime"),
            *keep,
        )

    return pl.concat([side("sender", "recipient", 1), side("recipient", "sender", 2)])


def _utc_from_local(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .str.to_datetime(_FMT, time_unit="us", strict=False)
        .dt.replace_time_zone(LOCAL_TIME_ZONE)
        .dt.convert_time_zone("UTC")
    )


def from_voc(voc: pl.DataFrame) -> pl.DataFrame:
    """Canonical calls from ``voc`` rows (best effort; see the module docstring).

    Both sides of one call collapse into one record when their caller, callee, start and
    duration agree. Ids are row numbers; ingress is ``unknown``.

    Examples
    --------
    >>> voc = pl.DataFrame({"phone_no_m": ["a", "b"], "opposite_no_m": ["b", "a"],
    ...     "calltype_id": [1, 2], "start_datetime": ["2020-01-01 08:00:00"] * 2,
    ...     "call_dur": [30, 30], "city_name": ["成都"] * 2, "county_name": ["x"] * 2,
    ...     "imei_m": ["i1", None]})
    >>> calls = from_voc(voc)
    >>> calls.height, calls["caller"][0], str(calls["start_at"][0])
    (1, 'a', '2020-01-01 00:00:00+00:00')
    """
    outgoing = pl.col("calltype_id") == 1
    frame = voc.select(
        pl.when(outgoing)
        .then(pl.col("phone_no_m"))
        .otherwise(pl.col("opposite_no_m"))
        .alias("caller"),
        pl.when(outgoing)
        .then(pl.col("opposite_no_m"))
        .otherwise(pl.col("phone_no_m"))
        .alias("callee"),
        _utc_from_local("start_datetime").alias("start_at"),
        pl.col("call_dur").cast(pl.Int32).alias("duration_s"),
        pl.when(outgoing).then(pl.col("imei_m")).alias("imei"),
    )
    frame = (
        frame.sort("imei", nulls_last=True)
        .unique(["caller", "callee", "start_at", "duration_s"], keep="first", maintain_order=True)
        .sort("start_at", "caller", "callee")
    )
    n = frame.height
    return frame.select(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("id"),
        "caller",
        "callee",
        "start_at",
        pl.lit(0, pl.Int32).alias("ring_s"),
        "duration_s",
        (pl.col("duration_s") > 0).alias("answered"),
        pl.lit("unknown").alias("release_cause"),
        pl.lit(Ingress.UNKNOWN.value).alias("ingress"),
        pl.lit("unknown").alias("trunk"),
        pl.lit(None, pl.String).alias("cell_id"),
        pl.col("imei"),
        pl.lit(None, pl.String).alias("imsi"),
        pl.lit(None, pl.String).alias("callee_cell_id"),
        pl.lit(None, pl.String).alias("attestation"),
    ).cast(dict(CALLS_SCHEMA))  # type: ignore[arg-type]


def from_sms(sms: pl.DataFrame) -> pl.DataFrame:
    """Canonical SMS from contest ``sms`` rows (text and ingress unknown)."""
    sent = pl.col("calltype_id") == 1
    frame = (
        sms.select(
            pl.when(sent)
            .then(pl.col("phone_no_m"))
            .otherwise(pl.col("opposite_no_m"))
            .alias("sender"),
            pl.when(sent)
            .then(pl.col("opposite_no_m"))
            .otherwise(pl.col("phone_no_m"))
            .alias("recipient"),
            _utc_from_local("request_datetime").alias("sent_at"),
        )
        .unique(maintain_order=True)
        .sort("sent_at", "sender", "recipient")
    )
    return frame.select(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("id"),
        "sender",
        "recipient",
        "sent_at",
        pl.lit(Ingress.UNKNOWN.value).alias("ingress"),
        pl.lit("unknown").alias("trunk"),
        pl.lit(None, pl.String).alias("cell_id"),
        pl.lit(None, pl.String).alias("text"),
    ).cast(dict(SMS_SCHEMA))  # type: ignore[arg-type]


def from_app(app: pl.DataFrame) -> pl.DataFrame:
    """Canonical usage from contest ``app`` rows, dated to the first of the month (Beijing)."""
    return (
        app.select(
            pl.col("phone_no_m").alias("msisdn"),
            (pl.col("month_id").cast(pl.String) + "-01 00:00:00").alias("start_at"),
            pl.col("busi_name").alias("app"),
            pl.col("flow").cast(pl.Float64).alias("flow_mb"),
            pl.lit(None, pl.String).alias("cell_id"),
        )
        .with_columns(_utc_from_local("start_at").alias("start_at"))
        .cast(
            dict(USAGE_SCHEMA)  # type: ignore[arg-type]
        )
    )


def from_user(user: pl.DataFrame) -> pl.DataFrame:
    """Subscriber facts the contest's ``user`` table holds: number, city, county, ARPU, label.

    ``arpu_cny`` is the mean over the months present. Activation time, plan, outlet and
    devices are not in the contest data, so this is not a full ``subscribers`` table.
    """
    months = [c for c in ARPU_MONTHS if c in user.columns]
    return user.select(
        pl.col("phone_no_m").alias("msisdn"),
        pl.col("city_name").alias("city"),
        pl.col("county_name").alias("county"),
        pl.col("idcard_cnt").cast(pl.Int64),
        pl.mean_horizontal([pl.col(c).cast(pl.Float64) for c in months]).alias("arpu_cny"),
        *([pl.col("label").cast(pl.Int64)] if "label" in user.columns else []),
    )
