"""Canonical record types: the tables every part of telewarden reads and writes.

One carrier's traffic and its ground truth are a set of tables. Each table has

* a Polars schema (``CALLS_SCHEMA`` and so on: column -> dtype, in on-disk column order),
* a frozen dataclass for a single record (``CallRecord`` and so on), for tests and hand-made
  examples, with ``FIELDS`` identical to the schema's columns,
* a file name on disk (``TABLES[name].file``, e.g. ``calls.parquet``).

Conventions (shared by the simulator, the screening engine, the detectors and the readers):

* Subscriber numbers (``msisdn``) are E.164 with a plus sign: ``+8613812345678``.
* ``caller``/``sender`` is the calling line identity **as presented** on the call or SMS, so it
  may be a short code (``95588``, ``10086``), a 106 SMS port (``1069551234567``), an
  international E.164 number (``+85291234567``) or a spoofed domestic one. ``callee`` and
  ``recipient`` are written the same way.
* Every timestamp is UTC-aware (``Datetime("us", "UTC")``) and named ``*_at``; durations are
  whole seconds named ``*_s``; data volume is ``flow_mb`` (megabytes).
* Enumerated columns are stored as strings holding the ``StrEnum`` values below, so CSV and
  Parquet files stay readable by any tool.
* A call record is one call as the carrier's network saw it. ``cell_id``, ``imei`` and ``imsi``
  describe the **caller's** device when the caller is this carrier's subscriber (null
  otherwise); ``callee_cell_id`` is the serving cell of the callee when the callee is a
  subscriber (null otherwise).
* Ground truth (``truth_*`` tables) is written only by the simulator; detectors must never
  read it except to score themselves.

Examples
--------
>>> sorted(TABLES)[:3]
['accounts', 'calls', 'cells']
>>> TABLES["calls"].file
'calls.parquet'
>>> list(CALLS_SCHEMA)[:4]
['id', 'caller', 'callee', 'start_at']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import polars as pl

__all__ = [
    "ACCOUNTS_SCHEMA",
    "CALLS_SCHEMA",
    "CELLS_SCHEMA",
    "OPTINS_SCHEMA",
    "SMS_SCHEMA",
    "SUBSCRIBERS_SCHEMA",
    "TABLES",
    "TRAFFIC_TABLES",
    "TRUTH_CAMPAIGNS_SCHEMA",
    "TRUTH_CARDS_SCHEMA",
    "TRUTH_EVENTS_SCHEMA",
    "TRUTH_TABLES",
    "TRUTH_VICTIMS_SCHEMA",
    "USAGE_SCHEMA",
    "UTC_TIME",
    "AccountRecord",
    "CallRecord",
    "CampaignKind",
    "CampaignRecord",
    "CellRecord",
    "ExposureKind",
    "Ingress",
    "OptInRecord",
    "OptInScope",
    "RecordKind",
    "ReleaseCause",
    "SmsRecord",
    "SubscriberRecord",
    "TableSpec",
    "TruthCardRecord",
    "TruthEventRecord",
    "TruthVictimRecord",
    "UsageRecord",
    "empty_frame",
    "frame_from_records",
]

UTC_TIME = pl.Datetime("us", "UTC")
"""The dtype of every ``*_at`` column."""


class Ingress(StrEnum):
    """Where a call or SMS entered this carrier's network.

    ``on_net`` means it originated from one of the carrier's own subscribers; ``domestic`` means
    a domestic interconnect (another Chinese carrier or a domestic VoIP/SMS gateway);
    ``international`` means an international gateway, where a domestic-looking caller ID is a
    spoofing signal (domain.md c, S18).
    """

    ON_NET = "on_net"
    DOMESTIC = "domestic"
    INTERNATIONAL = "international"
    UNKNOWN = "unknown"


class ReleaseCause(StrEnum):
    """Why a call ended (simplified from Q.850 cause values)."""

    NORMAL_CLEARING = "normal_clearing"
    NO_ANSWER = "no_answer"
    USER_BUSY = "user_busy"
    CALLER_ABANDONED = "caller_abandoned"
    CALL_REJECTED = "call_rejected"
    UNALLOCATED_NUMBER = "unallocated_number"
    UNKNOWN = "unknown"


class OptInScope(StrEnum):
    """What a subscriber's cross-border opt-in covers."""

    CALLS = "calls"
    SMS = "sms"
    BOTH = "both"
    UNKNOWN = "unknown"


class CampaignKind(StrEnum):
    """Kinds of fraud the simulator injects (codes of domain.md b / signals of c)."""

    CALL_CENTRE = "call_centre"
    """Call-centre fraud cards: new cards spraying strangers across cities (S1-S3, S7, S10, S15)."""
    SIM_BANK = "sim_bank"
    """SIM bank / GoIP rack: many SIMs in one device, one static cell (S11-S14)."""
    SPOOFED_CLI = "spoofed_cli"
    """Domestic, 95xxx or 110-like caller IDs arriving on international ingress (S18)."""
    WANGIRI = "wangiri"
    """One-ring international bursts followed by premium-rate callbacks (S20)."""
    ROBOCALL = "robocall"
    """Automated waves: high rate, short, rotating numbers (S22)."""
    SMISHING_INTL = "smishing_intl"
    """Scam SMS from international senders posing as domestic institutions (domain.md e.5)."""
    SMISHING_PORT = "smishing_port"
    """Scam SMS through 106 ports with look-alike links and APK links (domain.md e.1-e.2)."""
    UNKNOWN = "unknown"


class RecordKind(StrEnum):
    """Which traffic table a ground-truth event points into."""

    CALL = "call"
    SMS = "sms"
    UNKNOWN = "unknown"


class ExposureKind(StrEnum):
    """How a victim was reached: a long answered fraud call, a scam-link click, or a callback."""

    HOOKED_CALL = "hooked_call"
    LINK_CLICK = "link_click"
    CALLBACK = "callback"
    UNKNOWN = "unknown"


# ---------------------------------------------------------------------------------------------
# Schemas (column -> dtype, in file column order)
# ---------------------------------------------------------------------------------------------

CALLS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),  # unique within the calls table; increases with start_at
    "caller": pl.String(),  # calling line identity as presented (may be spoofed)
    "callee": pl.String(),  # dialled number
    "start_at": UTC_TIME,  # call attempt (seizure) time
    "ring_s": pl.Int32(),  # seconds from alerting to answer or release
    "duration_s": pl.Int32(),  # conversation seconds; 0 when not answered
    "answered": pl.Boolean(),
    "release_cause": pl.String(),  # ReleaseCause
    "ingress": pl.String(),  # Ingress
    "trunk": pl.String(),  # ingress trunk or route name, e.g. "intl-gw-2"
    "cell_id": pl.String(),  # caller's serving cell (null unless the caller is a subscriber)
    "imei": pl.String(),  # caller's handset (null unless the caller is a subscriber)
    "imsi": pl.String(),  # caller's SIM (null unless the caller is a subscriber)
    "callee_cell_id": pl.String(),  # callee's serving cell (null unless callee is a subscriber)
    "attestation": pl.String(),  # STIR/SHAKEN-style "A"/"B"/"C" where known, else null
}
"""Call detail records (domain.md c, "CDR" schema)."""

SMS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "sender": pl.String(),  # as presented: msisdn, short code, 106 port or international number
    "recipient": pl.String(),
    "sent_at": UTC_TIME,
    "ingress": pl.String(),  # Ingress
    "trunk": pl.String(),  # SMS gateway or SMSC route name
    "cell_id": pl.String(),  # sender's serving cell (null unless the sender is a subscriber)
    "text": pl.String(),  # content where lawfully available, else null
}
"""SMS records (domain.md c, "SMS" schema), one row per delivered message."""

USAGE_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),
    "start_at": UTC_TIME,  # start of the hour the usage was aggregated over
    "app": pl.String(),  # application or business name, e.g. "wechat"
    "flow_mb": pl.Float64(),  # data volume in megabytes
    "cell_id": pl.String(),
}
"""Data/app usage, aggregated per subscriber, hour and app (the contest's ``app`` table)."""

SUBSCRIBERS_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),
    "id_doc_hash": pl.String(),  # hash of the identity document the card was registered with
    "activated_at": UTC_TIME,
    "province": pl.String(),
    "city": pl.String(),
    "county": pl.String(),
    "plan": pl.String(),
    "sales_outlet": pl.String(),
    "imsi": pl.String(),
    "imei": pl.String(),  # handset at the start of the simulated period
    "home_cell_id": pl.String(),
    "arpu_cny": pl.Float64(),  # average revenue per user per month, yuan
}
"""Subscribers (domain.md c, "Subscriber" schema): one row per card (msisdn)."""

ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "platform": pl.String(),  # e.g. "wechat", "alipay", "qq", "douyin"
    "account": pl.String(),  # platform account id (pseudonymous)
    "msisdn": pl.String(),
    "linked_at": UTC_TIME,
}
"""Internet accounts linked to a number (AFL Art. 21: linked accounts are re-verified)."""

OPTINS_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),
    "scope": pl.String(),  # OptInScope
    "opted_in_at": UTC_TIME,
}
"""Cross-border opt-ins: subscribers who asked to receive international calls and/or SMS."""

CELLS_SCHEMA: dict[str, pl.DataType] = {
    "cell_id": pl.String(),
    "province": pl.String(),
    "city": pl.String(),
    "county": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
}
"""Radio cells: where each ``cell_id`` is (geography for signals S10/S11)."""

TRUTH_CARDS_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),  # the fraud number (a subscriber card, or a foreign/spoofed CLI)
    "campaign_kind": pl.String(),  # CampaignKind
    "campaign_id": pl.String(),
    "on_net": pl.Boolean(),  # True when the number is one of this carrier's subscribers
    "first_fraud_at": UTC_TIME,  # first fraud event from this number (null if none happened)
}
"""Ground truth: every number used by a fraud campaign."""

TRUTH_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "record_kind": pl.String(),  # RecordKind: which table record_id points into
    "record_id": pl.Int64(),
    "campaign_kind": pl.String(),  # CampaignKind
    "campaign_id": pl.String(),
    "role": pl.String(),  # "fraud_call", "fraud_sms", "callback" (victim calling a Wangiri number)
    "at": UTC_TIME,  # the record's start_at / sent_at
}
"""Ground truth: every fraud call and SMS (and every Wangiri callback), by record id."""

TRUTH_VICTIMS_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),
    "campaign_kind": pl.String(),
    "campaign_id": pl.String(),
    "exposure_kind": pl.String(),  # ExposureKind
    "exposure_record_kind": pl.String(),  # RecordKind
    "exposure_record_id": pl.Int64(),
    "exposed_at": UTC_TIME,
    "loss_at": UTC_TIME,  # when money was lost; null when the victim did not (yet) lose money
    "loss_cny": pl.Float64(),  # null when no loss
}
"""Ground truth: subscribers who engaged with fraud, and whether and when they lost money."""

TRUTH_CAMPAIGNS_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "campaign_kind": pl.String(),
    "start_at": UTC_TIME,
    "end_at": UTC_TIME,
    "description": pl.String(),
}
"""Ground truth: the campaigns injected, with their active window."""


# ---------------------------------------------------------------------------------------------
# Single records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call; fields as in ``CALLS_SCHEMA``.

    Examples
    --------
    >>> import datetime as dt
    >>> r = CallRecord(1, "+8613812345678", "+8613987654321",
    ...                dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC), 6, 75, True,
    ...                "normal_clearing", "on_net", "onnet")
    >>> frame_from_records([r], CALLS_SCHEMA).shape
    (1, 15)
    """

    id: int
    caller: str
    callee: str
    start_at: dt.datetime
    ring_s: int
    duration_s: int
    answered: bool
    release_cause: str
    ingress: str
    trunk: str
    cell_id: str | None = None
    imei: str | None = None
    imsi: str | None = None
    callee_cell_id: str | None = None
    attestation: str | None = None


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """One SMS; fields as in ``SMS_SCHEMA``."""

    id: int
    sender: str
    recipient: str
    sent_at: dt.datetime
    ingress: str
    trunk: str
    cell_id: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Data usage of one subscriber, app and hour; fields as in ``USAGE_SCHEMA``."""

    msisdn: str
    start_at: dt.datetime
    app: str
    flow_mb: float
    cell_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One subscriber card; fields as in ``SUBSCRIBERS_SCHEMA``."""

    msisdn: str
    id_doc_hash: str
    activated_at: dt.datetime
    province: str
    city: str
    county: str
    plan: str
    sales_outlet: str
    imsi: str
    imei: str
    home_cell_id: str
    arpu_cny: float


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An internet account linked to a number; fields as in ``ACCOUNTS_SCHEMA``."""

    platform: str
    account: str
    msisdn: str
    linked_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OptInRecord:
    """A cross-border opt-in; fields as in ``OPTINS_SCHEMA``."""

    msisdn: str
    scope: str
    opted_in_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CellRecord:
    """A radio cell; fields as in ``CELLS_SCHEMA``."""

    cell_id: str
    province: str
    city: str
    county: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TruthCardRecord:
    """A number used by a fraud campaign; fields as in ``TRUTH_CARDS_SCHEMA``."""

    msisdn: str
    campaign_kind: str
    campaign_id: str
    on_net: bool
    first_fraud_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class TruthEventRecord:
    """A fraud call or SMS; fields as in ``TRUTH_EVENTS_SCHEMA``."""

    record_kind: str
    record_id: int
    campaign_kind: str
    campaign_id: str
    role: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class TruthVictimRecord:
    """A subscriber who engaged with fraud; fields as in ``TRUTH_VICTIMS_SCHEMA``."""

    msisdn: str
    campaign_kind: str
    campaign_id: str
    exposure_kind: str
    exposure_record_kind: str
    exposure_record_id: int
    exposed_at: dt.datetime
    loss_at: dt.datetime | None
    loss_cny: float | None


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """An injected campaign; fields as in ``TRUTH_CAMPAIGNS_SCHEMA``."""

    campaign_id: str
    campaign_kind: str
    start_at: dt.datetime
    end_at: dt.datetime
    description: str


# ---------------------------------------------------------------------------------------------
# Table registry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A canonical table: its name, schema, on-disk file and record type.

    Attributes
    ----------
    name : str
        Table name (``"calls"``); also the file stem.
    schema : Mapping[str, pl.DataType]
        Column -> dtype in file order.
    record_type : type
        Frozen dataclass for one row.
    required : tuple[str, ...]
        Columns that may not be null; readers quarantine rows where they are.
    truth : bool
        Whether the table is simulator ground truth.
    """

    name: str
    schema: Mapping[str, pl.DataType]
    record_type: type
    required: tuple[str, ...]
    truth: bool = False

    @property
    def file(self) -> str:
        """The Parquet file name, e.g. ``calls.parquet``."""
        return f"{self.name}.parquet"

    @property
    def csv_file(self) -> str:
        """The CSV file name, e.g. ``calls.csv``."""
        return f"{self.name}.csv"


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "calls",
            CALLS_SCHEMA,
            CallRecord,
            ("id", "caller", "callee", "start_at", "duration_s", "answered", "ingress"),
        ),
        TableSpec(
            "sms", SMS_SCHEMA, SmsRecord, ("id", "sender", "recipient", "sent_at", "ingress")
        ),
        TableSpec("usage", USAGE_SCHEMA, UsageRecord, ("msisdn", "start_at", "app", "flow_mb")),
        TableSpec("subscribers", SUBSCRIBERS_SCHEMA, SubscriberRecord, ("msisdn", "activated_at")),
        TableSpec("accounts", ACCOUNTS_SCHEMA, AccountRecord, ("platform", "account", "msisdn")),
        TableSpec("optins", OPTINS_SCHEMA, OptInRecord, ("msisdn", "scope", "opted_in_at")),
        TableSpec("cells", CELLS_SCHEMA, CellRecord, ("cell_id",)),
        TableSpec(
            "truth_cards",
            TRUTH_CARDS_SCHEMA,
            TruthCardRecord,
            ("msisdn", "campaign_kind", "campaign_id"),
            truth=True,
        ),
        TableSpec(
            "truth_events",
            TRUTH_EVENTS_SCHEMA,
            TruthEventRecord,
            ("record_kind", "record_id", "campaign_kind", "campaign_id"),
            truth=True,
        ),
        TableSpec(
            "truth_victims",
            TRUTH_VICTIMS_SCHEMA,
            TruthVictimRecord,
            ("msisdn", "campaign_id", "exposed_at"),
            truth=True,
        ),
        TableSpec(
            "truth_campaigns",
            TRUTH_CAMPAIGNS_SCHEMA,
            CampaignRecord,
            ("campaign_id", "campaign_kind"),
            truth=True,
        ),
    )
}
"""Every canonical table by name."""

TRAFFIC_TABLES: tuple[str, ...] = ("calls", "sms", "usage")
"""Tables that grow with time and are written chunk by chunk."""

TRUTH_TABLES: tuple[str, ...] = tuple(name for name, spec in TABLES.items() if spec.truth)
"""Ground-truth tables."""


def empty_frame(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Return an empty DataFrame with exactly ``schema``.

    Examples
    --------
    >>> empty_frame(OPTINS_SCHEMA).columns
    ['msisdn', 'scope', 'opted_in_at']
    """
    return pl.DataFrame(schema=dict(schema))


def frame_from_records(records: Iterable[Any], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Build a DataFrame with ``schema`` from dataclass records (tests, hand-made examples).

    Examples
    --------
    >>> import datetime as dt
    >>> rec = OptInRecord("+8613812345678", "both", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    >>> frame_from_records([rec], OPTINS_SCHEMA).row(0)[1]
    'both'
    """
    rows = [dataclasses.asdict(r) for r in records]
    if not rows:
        return empty_frame(schema)
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


LIVE_EVENT_SCHEMA: dict[str, pl.DataType] = {
    "position": pl.String(),  # unique in the source; the effects' idempotency keys derive from it
    "channel": pl.String(),  # call | sms
    "at": pl.Datetime("us", "UTC"),
    "caller": pl.String(),  # caller ID or SMS sender as presented
    "callee": pl.String(),  # callee or SMS recipient
    "ingress": pl.String(),  # international | domestic | on_net | unknown
    "ring_s": pl.Int32(),
    "answered": pl.Boolean(),
    "duration_s": pl.Int32(),
    "cell_id": pl.String(),
    "imei": pl.String(),
    "imsi": pl.String(),
    "text": pl.String(),
    "callee_cell_id": pl.String(),  # the callee's serving cell (on-net callees), for features
}
"""One live event (a call attempt or an SMS) as the live loop and its brokers carry it: a
micro-batch holds calls and SMS in one table, sorted by ``at``."""

CALLEE_COPY_FIELDS: tuple[str, ...] = (
    "position", "channel", "at", "caller", "callee", "answered", "duration_s", "callee_cell_id",
)  # fmt: skip
"""What a copy of an event sent to its callee's partition carries (the other fields are null):
the callee's side of the scorer's features, an answered call or SMS received with its time,
counterpart, duration and the callee's cell (the caller's own side is kept by the caller's
partition)."""
