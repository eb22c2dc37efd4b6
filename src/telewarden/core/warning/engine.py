"""The early-warning engine: flags and records in, warnings out, in event time.

What belongs here: :class:`WarningEngine`, the one logic behind both paths. The batch path
replays stored records and flags through it in time order; the live loop calls ``on_flag`` for
each flag and ``on_call``/``on_sms`` for each record as it arrives. A flag looks back over the
contacts already indexed (the days before it); a record that arrives after a flag and touches a
flagged subject is assessed at once. Each exposed subscriber gets a :class:`QueueEntry` (risk,
explanation, what the gate decided); the sent ones also become a :class:`WarningNotice`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from telewarden.core.ports import Flag
from telewarden.core.warning.exposure import (
    SPOOF_SUFFIX,
    Contact,
    ContactSummary,
    ExposureIndex,
    call_contacts,
    sms_contacts,
)
from telewarden.core.warning.policy import Channel, Plan, WarningGate, WarningPolicy
from telewarden.core.warning.risk import FraudType, Risk, RiskModel, fraud_type_of
from telewarden.core.warning.templates import render

__all__ = ["QueueEntry", "WarningEngine", "WarningNotice", "default_is_subscriber"]

_render = functools.lru_cache(maxsize=4096)(render)
""":func:`render` remembered: every subscriber warned about one flag gets the same text (a
pure function of the fraud type and the subject; the result is frozen)."""


def default_is_subscriber(msisdn: str) -> bool:
    """A Chinese mobile number in E.164 (``+861`` and 10 more digits): warnable by SMS.

    Examples
    --------
    >>> default_is_subscriber("+8613800138000"), default_is_subscriber("106944733372")
    (True, False)
    """
    return len(msisdn) == 14 and msisdn.startswith("+861") and msisdn[1:].isdigit()


@dataclass(frozen=True, slots=True)
class WarningNotice:
    """One warning to one subscriber for one campaign, with its texts and schedule."""

    warning_id: str
    msisdn: str
    subject: str
    subject_kind: str
    fraud_type: str
    campaign_key: str
    flag_source: str
    risk: float
    band: str
    signal: str
    reasons: tuple[str, ...]
    created_at: dt.datetime
    """When the engine decided (the flag or record that completed the evidence)."""
    send_at: dt.datetime
    """When the SMS and push go out (after quiet hours and rate limits)."""
    channels: tuple[str, ...]
    call_at: dt.datetime | None
    template: str
    text_zh: str
    text_en: str
    record_kind: str
    """The last record that exposed the subscriber: ``call`` or ``sms``."""
    record_id: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (store rows, webhook bodies, audit records)."""
        return {
            "warning_id": self.warning_id,
            "msisdn": self.msisdn,
            "subject": self.subject,
            "subject_kind": self.subject_kind,
            "fraud_type": self.fraud_type,
            "campaign_key": self.campaign_key,
            "flag_source": self.flag_source,
            "risk": self.risk,
            "band": self.band,
            "signal": self.signal,
            "reasons": list(self.reasons),
            "created_at": self.created_at.isoformat(),
            "send_at": self.send_at.isoformat(),
            "channels": list(self.channels),
            "call_at": self.call_at.isoformat() if self.call_at else None,
            "template": self.template,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "record_kind": self.record_kind,
            "record_id": self.record_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarningNotice:
        """Inverse of :meth:`as_dict`."""
        call_at = data.get("call_at")
        return cls(
            warning_id=str(data["warning_id"]),
            msisdn=str(data["msisdn"]),
            subject=str(data["subject"]),
            subject_kind=str(data["subject_kind"]),
            fraud_type=str(data["fraud_type"]),
            campaign_key=str(data["campaign_key"]),
            flag_source=str(data["flag_source"]),
            risk=float(data["risk"]),
            band=str(data["band"]),
            signal=str(data["signal"]),
            reasons=tuple(data.get("reasons", ())),
            created_at=dt.datetime.fromisoformat(str(data["created_at"])),
            send_at=dt.datetime.fromisoformat(str(data["send_at"])),
            channels=tuple(data.get("channels", ())),
            call_at=dt.datetime.fromisoformat(str(call_at)) if call_at else None,
            template=str(data["template"]),
            text_zh=str(data["text_zh"]),
            text_en=str(data["text_en"]),
            record_kind=str(data["record_kind"]),
            record_id=int(data["record_id"]),
        )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One exposed subscriber as assessed: the prioritised queue is these, by risk."""

    msisdn: str
    subject: str
    fraud_type: str
    at: dt.datetime
    risk: float
    band: str
    signal: str
    decision: str
    """What the gate decided (``warn``, ``below_threshold``, ``duplicate``, ...)."""
    reasons: tuple[str, ...]


_CAMPAIGN_FAMILY: dict[FraudType, str] = {
    FraudType.FRAUD_CALL: "fraud_call",
    FraudType.SPOOFED_CALL: "fraud_call",
    FraudType.ROBOCALL: "fraud_call",
    FraudType.UNKNOWN: "fraud_call",
    FraudType.WANGIRI: "wangiri",
    FraudType.SMISHING: "smishing",
}
"""Campaign key of a flag that names none: one warning per subscriber per family of schemes.

Detectors see cards, not campaigns: one call centre's cards are caught by the burst rule, its
SIM bank by the IMEI rule, its spoofed caller IDs by the surge rule. Warning a subscriber once per
family (fraud calls, Wangiri, scam SMS) within the campaign window is what "once per campaign"
can mean without knowing the gangs.
"""


@dataclass(slots=True)
class _Flagged:
    flag: Flag
    fraud_type: FraudType
    campaign_key: str


@dataclass(slots=True)
class EngineCounts:
    """Reconciled counts: every assessment ends in exactly one decision."""

    flags: int = 0
    repeated_flags: int = 0
    records: int = 0
    contacts: int = 0
    assessed: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


class WarningEngine:
    """Find the subscribers exposed to flagged subjects, score them and decide their warnings.

    Parameters
    ----------
    risk : RiskModel, optional
        Victim-risk scoring (defaults).
    policy : WarningPolicy, optional
        Quiet hours, rate limits, one warning per subscriber per campaign.
    lookback : datetime.timedelta
        How far before a flag contacts count (default three days).
    is_subscriber : callable, optional
        Whether a number is this carrier's subscriber, hence warnable (default: any Chinese
        mobile number in E.164; the batch path passes the subscribers table).
    subscribers : polars.Series, optional
        The numbers ``is_subscriber`` accepts, when it is a fixed list: the live loop's
        column path matches a batch's numbers against them at once.
    age_bands : mapping, optional
        ``msisdn -> age band`` where the carrier knows it (``65+`` raises the risk).
    keep_queue : bool
        Keep every assessment in ``queue`` (batch runs); a live loop drains it.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    >>> engine = WarningEngine()
    >>> engine.on_call(1, "+8617000000000", "+8613800000001", t, 5, 900, True)
    []
    >>> flag = Flag("+8617000000000", "msisdn", "new_card_burst", t + dt.timedelta(minutes=20), "burst")
    >>> [(w.msisdn, w.band, w.channels) for w in engine.on_flag(flag)]
    [('+8613800000001', 'high', ('sms', 'push', 'call'))]
    """

    def __init__(
        self,
        *,
        risk: RiskModel | None = None,
        policy: WarningPolicy | None = None,
        lookback: dt.timedelta = dt.timedelta(days=3),
        is_subscriber: Callable[[str], bool] | None = None,
        subscribers: pl.Series | None = None,
        age_bands: Mapping[str, str] | None = None,
        keep_queue: bool = True,
    ) -> None:
        self.risk_model = risk or RiskModel()
        self.gate = WarningGate(policy or WarningPolicy())
        self.index = ExposureIndex(lookback)
        self.is_subscriber = is_subscriber or default_is_subscriber
        self.subscribers = subscribers
        """The numbers ``is_subscriber`` accepts, when it is a fixed list (column paths match
        them with ``is_in``); None for a rule."""
        self.age_bands = age_bands or {}
        self.keep_queue = keep_queue
        self.queue: list[QueueEntry] = []
        self.counts = EngineCounts()
        self._flagged: dict[str, _Flagged] = {}
        self._exposed: dict[str, set[str]] = {}

    def is_flagged(self, subject: str) -> bool:
        """Whether ``subject`` has been flagged."""
        return subject in self._flagged

    def on_flag(self, flag: Flag) -> list[WarningNotice]:
        """Register a flag and warn the subscribers exposed to it in the look-back window."""
        self.counts.flags += 1
        fraud_type = fraud_type_of(flag)
        known = self._flagged.get(flag.subject) or self._flagged.get(flag.subject + SPOOF_SUFFIX)
        if known is not None:
            self.counts.repeated_flags += 1
            # A later, more specific detector names the scheme (a Wangiri burst first caught by
            # the international-surge rule): the template follows it, the campaign key stays.
            if fraud_type is FraudType.WANGIRI and known.fraud_type is not fraud_type:
                known.fraud_type = fraud_type
                if not known.flag.evidence.get("campaign"):
                    known.campaign_key = _CAMPAIGN_FAMILY[fraud_type]
            return []
        campaign = flag.evidence.get("campaign")
        key = str(campaign) if campaign else _CAMPAIGN_FAMILY[fraud_type]
        flagged = _Flagged(flag, fraud_type, key)
        keys = [flag.subject + SPOOF_SUFFIX, flag.subject]
        since = flag.at - self.index.lookback
        out: list[WarningNotice] = []
        for index_key in keys:
            self._flagged[index_key] = flagged
            for msisdn, summary in list(self.index.exposed_to(index_key, since=since)):
                notice = self._assess(msisdn, index_key, summary, flag.at)
                if notice is not None:
                    out.append(notice)
        return out

    def index_unflagged(self, contacts: pl.DataFrame, flags: Sequence[Flag]) -> pl.DataFrame:
        """Index in bulk the contacts no assessment can be due for; return the others.

        ``contacts`` are a batch's (:func:`~telewarden.core.warning.contact_frame.contacts_frame`)
        and ``flags`` the flags raised within it. A contact whose subject is flagged, before or
        by one of ``flags`` (either spelling, with or without the spoof suffix), is returned
        for :meth:`on_contacts` in event order; every other one goes to the exposure index's
        columnar part at once, which is what :meth:`on_contacts` would have done with it.
        """
        keys = set(self._flagged)
        keys.update(flag.subject for flag in flags)
        keys |= {key + SPOOF_SUFFIX for key in keys}
        live = contacts.get_column("subject").is_in(pl.Series(list(keys), dtype=pl.String))
        quiet = contacts.filter(~live)
        self.counts.contacts += quiet.height
        self.index.add_frame(quiet)
        return contacts.filter(live)

    def on_contacts(self, contacts: list[Contact]) -> list[WarningNotice]:
        """Index contacts and assess those that touch a flagged subject."""
        out: list[WarningNotice] = []
        for contact in contacts:
            self.counts.contacts += 1
            summary = self.index.add(contact)
            if contact.subject in self._flagged:
                notice = self._assess(contact.msisdn, contact.subject, summary, contact.known_at)
                if notice is not None:
                    out.append(notice)
        return out

    def on_call(
        self,
        record_id: int,
        caller: str,
        callee: str,
        start_at: dt.datetime,
        ring_s: int | None,
        duration_s: int | None,
        answered: bool,
        ingress: str | None = None,
    ) -> list[WarningNotice]:
        """Take one call record (known at its end)."""
        self.counts.records += 1
        contacts = call_contacts(
            record_id,
            caller,
            callee,
            start_at,
            ring_s,
            duration_s,
            answered,
            self.is_subscriber,
            ingress,
        )
        return self.on_contacts(contacts) if contacts else []

    def on_sms(
        self, record_id: int, sender: str, recipient: str, sent_at: dt.datetime, text: str | None
    ) -> list[WarningNotice]:
        """Take one SMS record."""
        self.counts.records += 1
        contacts = sms_contacts(record_id, sender, recipient, sent_at, text, self.is_subscriber)
        return self.on_contacts(contacts) if contacts else []

    def _assess(
        self, msisdn: str, subject: str, summary: ContactSummary, now: dt.datetime
    ) -> WarningNotice | None:
        if msisdn in self._flagged:
            return None  # a flagged card is not a victim to warn
        if not subject.endswith(SPOOF_SUFFIX) and self.index.has_subject(
            subject + SPOOF_SUFFIX, since=now - self.index.lookback
        ):
            # A domestic number presented on an international gateway is a spoofed caller ID:
            # only the calls presented that way were the fraudster's; the owner's own calls,
            # and calls back to the owner, are no exposure.
            return None
        flagged = self._flagged[subject]
        seen = self._exposed.setdefault(msisdn, set())
        seen.add(subject)
        risk = self.risk_model.assess(
            summary,
            flagged.fraud_type,
            now=now,
            earlier_exposures=len(seen) - 1,
            age_band=self.age_bands.get(msisdn),
        )
        plan = self.gate.plan(msisdn, flagged.campaign_key, risk, now)
        self.counts.assessed += 1
        self.counts.decisions[plan.reason] = self.counts.decisions.get(plan.reason, 0) + 1
        if self.keep_queue:
            self.queue.append(
                QueueEntry(
                    msisdn,
                    subject,
                    str(flagged.fraud_type),
                    now,
                    risk.score,
                    str(risk.band),
                    risk.signal,
                    plan.reason,
                    risk.reasons,
                )
            )
        if not plan.send:
            return None
        return self._notice(msisdn, flagged, summary, risk, plan, now)

    @staticmethod
    def _notice(
        msisdn: str,
        flagged: _Flagged,
        summary: ContactSummary,
        risk: Risk,
        plan: Plan,
        now: dt.datetime,
    ) -> WarningNotice:
        flag = flagged.flag
        text = _render(flagged.fraud_type, flag.subject, flag.kind)
        digest = hashlib.sha256(f"{msisdn}|{flagged.campaign_key}|{now.isoformat()}".encode())
        assert plan.send_at is not None
        return WarningNotice(
            warning_id=digest.hexdigest()[:20],
            msisdn=msisdn,
            subject=flag.subject,
            subject_kind=flag.kind,
            fraud_type=str(flagged.fraud_type),
            campaign_key=flagged.campaign_key,
            flag_source=flag.source,
            risk=risk.score,
            band=str(risk.band),
            signal=risk.signal,
            reasons=risk.reasons,
            created_at=now,
            send_at=plan.send_at,
            channels=tuple(str(c) for c in plan.channels),
            call_at=plan.call_at if Channel.CALL in plan.channels else None,
            template=text.template,
            text_zh=text.zh,
            text_en=text.en,
            record_kind=summary.last_record_kind,
            record_id=summary.last_record_id,
        )

    def prioritised(self) -> list[QueueEntry]:
        """The queue, highest risk first (ties: earliest first)."""
        return sorted(self.queue, key=lambda e: (-e.risk, e.at))
