"""Who was in contact with what: the exposure index of early warning.

What belongs here: turning call and SMS records into :class:`Contact` facts about subscribers
(answered a call from X, missed a one-ring call from X, called X back, received an SMS from X,
received an SMS naming domain or wallet X) and :class:`ExposureIndex`, which keeps one
:class:`ContactSummary` per (subject, subscriber) pair so that a flag raised later can look back
over the days before it. Nothing here reads the clock: every contact carries the time the
carrier learnt of it (``known_at``: the end of a call, the sending of an SMS).

Why summaries rather than every record: a flag needs strength (longest answered call, how many
contacts), recency (the last contact) and provenance (the last exposing record); keeping every
record of a carrier's day per pair would cost several times the memory for nothing the score
uses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "Contact",
    "ContactKind",
    "ContactSummary",
    "ExposureIndex",
    "call_contacts",
    "NAMING_HINT",
    "SPOOF_SUFFIX",
    "sms_contacts",
    "spoof_key",
    "text_subjects",
]


class ContactKind(StrEnum):
    """How a subscriber met a subject."""

    ANSWERED_CALL = "answered_call"
    """The subscriber answered a call from the subject."""
    MISSED_CALL = "missed_call"
    """A call from the subject rang the subscriber and was not answered (the Wangiri lure)."""
    CALLBACK = "callback"
    """The subscriber called the subject."""
    SMS = "sms"
    """The subscriber received an SMS from the subject."""
    LINK = "link"
    """The subscriber received an SMS naming the subject (a domain or a wallet address)."""
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str) -> ContactKind:
        """Parse a value, ``UNKNOWN`` when it is not a member."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class Contact:
    """One subscriber-side fact taken from one record."""

    msisdn: str
    """The subscriber (E.164)."""
    subject: str
    """The other side: a number, a domain or a wallet address."""
    kind: ContactKind
    known_at: dt.datetime
    """When the carrier learnt of it: end of the call, or the SMS sending time."""
    duration_s: int
    """Conversation seconds (0 for SMS and unanswered calls)."""
    record_kind: str
    """``call`` or ``sms``."""
    record_id: int


@dataclass(slots=True)
class ContactSummary:
    """Everything the risk score needs about one subscriber's contact with one subject."""

    first_at: dt.datetime
    last_at: dt.datetime
    answered_calls: int = 0
    missed_calls: int = 0
    callbacks: int = 0
    sms: int = 0
    links: int = 0
    longest_answered_s: int = 0
    answered_total_s: int = 0
    last_record_kind: str = ""
    last_record_id: int = -1

    @property
    def contacts(self) -> int:
        """Every contact counted once."""
        return self.answered_calls + self.missed_calls + self.callbacks + self.sms + self.links

    def add(self, contact: Contact) -> None:
        """Fold one more contact into the summary."""
        kind = contact.kind
        if kind is ContactKind.ANSWERED_CALL:
            self.answered_calls += 1
            self.answered_total_s += contact.duration_s
            self.longest_answered_s = max(self.longest_answered_s, contact.duration_s)
        elif kind is ContactKind.MISSED_CALL:
            self.missed_calls += 1
        elif kind is ContactKind.CALLBACK:
            self.callbacks += 1
            self.answered_total_s += contact.duration_s
        elif kind is ContactKind.SMS:
            self.sms += 1
        elif kind is ContactKind.LINK:
            self.links += 1
        if contact.known_at < self.first_at:
            self.first_at = contact.known_at
        if contact.known_at >= self.last_at:
            self.last_at = contact.known_at
            self.last_record_kind = contact.record_kind
            self.last_record_id = contact.record_id

    def merge(self, later: ContactSummary) -> None:
        """Fold the summary of later contacts (as if each had been added after these)."""
        self.answered_calls += later.answered_calls
        self.missed_calls += later.missed_calls
        self.callbacks += later.callbacks
        self.sms += later.sms
        self.links += later.links
        self.answered_total_s += later.answered_total_s
        self.longest_answered_s = max(self.longest_answered_s, later.longest_answered_s)
        if later.first_at < self.first_at:
            self.first_at = later.first_at
        if later.last_at >= self.last_at:
            self.last_at = later.last_at
            self.last_record_kind = later.last_record_kind
            self.last_record_id = later.last_record_id


SPOOF_SUFFIX = "#intl"
"""Index key suffix of a domestic caller ID (``+86`` or national form) on an international gateway.

Such a call did not come from the number's owner, so it is indexed apart: when the number is
flagged for it, the owner's genuine domestic calls (and calls back to the owner) are not
exposures.
"""


def spoof_key(caller: str, ingress: str | None) -> str:
    """The index key of a caller: ``caller#intl`` for a domestic number on an international gateway.

    Domestic means ``+86`` or a national form (``95588``, ``110``): a genuine foreign caller
    arrives in E.164 with its own country code.

    Examples
    --------
    >>> spoof_key("+8613800000001", "international"), spoof_key("+23225848160", "international")
    ('+8613800000001#intl', '+23225848160')
    >>> spoof_key("95588", "international"), spoof_key("95588", "on_net")
    ('95588#intl', '95588')
    """
    if ingress == "international" and (caller.startswith("+86") or not caller.startswith("+")):
        return caller + SPOOF_SUFFIX
    return caller


def call_contacts(
    record_id: int,
    caller: str,
    callee: str,
    start_at: dt.datetime,
    ring_s: int | None,
    duration_s: int | None,
    answered: bool,
    is_subscriber: Callable[[str], bool],
    ingress: str | None = None,
) -> list[Contact]:
    """The contacts one call record gives: the callee's (answered or missed) and the caller's.

    The callee's contact is keyed by :func:`spoof_key` of the caller.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    >>> [(c.msisdn, c.subject, str(c.kind), c.known_at.minute) for c in call_contacts(
    ...     1, "+23225848160", "+8613800000001", t, 2, 0, False, lambda n: n.startswith("+86"))]
    [('+8613800000001', '+23225848160', 'missed_call', 0)]
    """
    talk = int(duration_s or 0) if answered else 0
    known_at = start_at + dt.timedelta(seconds=int(ring_s or 0) + talk)
    out: list[Contact] = []
    if is_subscriber(callee):
        kind = ContactKind.ANSWERED_CALL if answered else ContactKind.MISSED_CALL
        out.append(
            Contact(callee, spoof_key(caller, ingress), kind, known_at, talk, "call", record_id)
        )
    if is_subscriber(caller):
        out.append(Contact(caller, callee, ContactKind.CALLBACK, known_at, talk, "call", record_id))
    return out


# Hosts after a scheme or a "www.", or bare names with a dotted suffix of letters; wallets in the
# forms scam texts use (TRON, Ethereum, Bitcoin). Deliberately simple: the subject of a flag
# comes from the same extraction, so both sides agree on what a "domain" is.
_HOST_RE = re.compile(
    r"(?:https?://|www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![a-z0-9-])",
    re.IGNORECASE,
)
_WALLET_RE = re.compile(
    r"(?<![A-Za-z0-9])(T[1-9A-HJ-NP-Za-km-z]{33}|0x[0-9a-fA-F]{40}|bc1[02-9ac-hj-np-z]{25,59})"
    r"(?![A-Za-z0-9])"
)


NAMING_HINT = (
    r"(?i)[a-z0-9\u0130\u0131\u017f\u212a]\.[a-z\u0130\u0131\u017f\u212a]{2}"
    r"|(?-i:T[1-9A-HJ-NP-Za-km-z]{33}|0x[0-9a-fA-F]{40}|bc1[02-9ac-hj-np-z]{25,59})"
)
"""A pattern (for Polars' regex engine) every text :func:`text_subjects` names anything in
matches: a letter or digit, a dot and two letters (the end of any host ``_HOST_RE`` finds;
the four non-ASCII letters are those Python's case-insensitive ``[a-z]`` also takes), or a
wallet without its look-arounds. A column filter with it leaves the texts worth the regexes."""


_ASCII_RUN_RE = re.compile(r"[A-Za-z0-9]{26}")


def text_subjects(text: str | None) -> list[tuple[str, str]]:
    """The domains and wallet addresses an SMS names, as ``(subject, kind)`` pairs.

    Domains are lower-cased without a leading ``www.``.

    Examples
    --------
    >>> text_subjects("请登录 http://ETC-renz.com/rz 认证，或转账到 TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC")
    [('etc-renz.com', 'domain'), ('TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC', 'wallet')]
    """
    if not text:
        return []
    found: dict[str, str] = {}
    # Most texts name neither: skip the regexes unless a dot or a long ASCII run is present.
    has_dot = "." in text
    if not has_dot and not _ASCII_RUN_RE.search(text):
        return []
    for match in _HOST_RE.finditer(text) if has_dot else ():
        host = match.group(1).lower()
        if host.startswith("www."):
            host = host[4:]
        found.setdefault(host, "domain")
    for match in _WALLET_RE.finditer(text):
        found.setdefault(match.group(1), "wallet")
    return list(found.items())


def sms_contacts(
    record_id: int,
    sender: str,
    recipient: str,
    sent_at: dt.datetime,
    text: str | None,
    is_subscriber: Callable[[str], bool],
) -> list[Contact]:
    """The recipient's contacts from one SMS: its sender, and each domain or wallet it names."""
    if not is_subscriber(recipient):
        return []
    out = [Contact(recipient, sender, ContactKind.SMS, sent_at, 0, "sms", record_id)]
    for subject, _kind in text_subjects(text):
        out.append(Contact(recipient, subject, ContactKind.LINK, sent_at, 0, "sms", record_id))
    return out


_COUNTED = (
    ("answered_calls", ContactKind.ANSWERED_CALL),
    ("missed_calls", ContactKind.MISSED_CALL),
    ("callbacks", ContactKind.CALLBACK),
    ("sms", ContactKind.SMS),
    ("links", ContactKind.LINK),
)


def _summaries(contacts: pl.DataFrame) -> pl.DataFrame:
    """One :class:`ContactSummary` row per (subject, subscriber) pair of ``contacts``, in the
    order the pairs first appear: what :meth:`ExposureIndex.add` of each row in order builds.

    Every aggregation is a plain one over a column prepared beforehand (a filter or a
    comparison inside ``agg`` is evaluated group by group, microseconds a group). The last
    record is the last row among those at the pair's latest ``known_at``: the row with the
    largest (rank of ``known_at``, row number), one integer.
    """
    kind = pl.col("kind")
    n = contacts.height
    answered = kind == ContactKind.ANSWERED_CALL.value
    talking = answered | (kind == ContactKind.CALLBACK.value)
    latest = pl.col("known_at").rank("dense").cast(pl.Int64) * n + pl.int_range(n, dtype=pl.Int64)
    summaries = (
        contacts.select(
            "subject",
            "msisdn",
            "known_at",
            *((kind == k.value).cast(pl.UInt32).alias(name) for name, k in _COUNTED),
            pl.when(answered).then(pl.col("duration_s")).alias("longest_answered_s"),
            pl.when(talking).then(pl.col("duration_s")).otherwise(0).alias("answered_total_s"),
            latest.alias("_latest"),
        )
        .group_by("subject", "msisdn", maintain_order=True)
        .agg(
            pl.col("known_at").min().alias("first_at"),
            pl.col("known_at").max().alias("last_at"),
            *(pl.col(name).sum() for name, _ in _COUNTED),
            pl.col("longest_answered_s").max().fill_null(0),
            pl.col("answered_total_s").sum(),
            (pl.col("_latest").max() % n).alias("_row"),
        )
    )
    rows = summaries.get_column("_row")
    return summaries.drop("_row").with_columns(
        contacts.get_column("record_kind").gather(rows).alias("last_record_kind"),
        contacts.get_column("record_id").gather(rows).alias("last_record_id"),
    )


_COLD_TABLES = 32
"""Per-batch summary tables kept apart before they are concatenated into one."""


class ExposureIndex:
    """Contact summaries per subject and subscriber, for looking back when a flag arrives.

    Parameters
    ----------
    lookback : datetime.timedelta
        How far before a flag contacts still count. It is also the expiry of a pair: a
        subscriber and a subject with no contact for longer than ``lookback`` are strangers
        again (the next contact starts a new summary), so :meth:`prune` can forget them at any
        time without changing any answer for a moment at or after its ``now``: that is what
        keeps the index's memory bounded on a run of weeks.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    >>> index = ExposureIndex(dt.timedelta(days=3))
    >>> _ = index.add(Contact("+8613800000001", "+8617000000000", ContactKind.ANSWERED_CALL,
    ...     t, 600, "call", 7))
    >>> [(m, s.longest_answered_s) for m, s in index.exposed_to("+8617000000000", since=t)]
    [('+8613800000001', 600)]
    """

    def __init__(self, lookback: dt.timedelta) -> None:
        self.lookback = lookback
        self._by_subject: dict[str, dict[str, ContactSummary]] = {}
        # The columnar part (the live loop's batches): per-batch summaries not yet folded into
        # ``_by_subject``; a subject's are folded the first time it is asked about.
        self._cold: list[pl.DataFrame] = []
        self._cold_subjects: set[str] = set()
        self._folded_before: dict[str, int] = {}
        self._next_seq = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Checkpoints written before the columnar part existed have none.
        self.__dict__.update(state)
        self.__dict__.setdefault("_cold", [])
        self.__dict__.setdefault("_cold_subjects", set())
        self.__dict__.setdefault("_folded_before", {})
        self.__dict__.setdefault("_next_seq", 0)

    def __len__(self) -> int:
        self.warm(list(self._cold_subjects))
        return sum(len(v) for v in self._by_subject.values())

    def add_frame(self, contacts: pl.DataFrame) -> None:
        """Take many contacts at once (``CONTACT_FRAME_SCHEMA`` columns, in record order).

        The same as :meth:`add` of each row in order, kept as one summary table per call until
        a subject is asked about (:meth:`warm`): the contacts of subjects nobody flags, most of
        them, are never turned into Python objects.
        """
        if not contacts.height:
            return
        summaries = _summaries(contacts)
        self._cold.append(summaries.with_columns(pl.lit(self._next_seq, pl.Int64).alias("_seq")))
        self._next_seq += 1
        if len(self._cold) > _COLD_TABLES:
            # One table rather than many: a warm filters one column however long the run.
            self._cold = [pl.concat(self._cold, how="vertical")]
        self._cold_subjects.update(summaries.get_column("subject").unique().to_list())

    def warm(self, subjects: Iterable[str]) -> None:
        """Fold the columnar summaries of ``subjects`` into the per-pair summaries."""
        wanted = [s for s in set(subjects) if s in self._cold_subjects]
        if not wanted:
            return
        folded_before = self._folded_before
        column = pl.Series(wanted, dtype=pl.String)
        for frame in self._cold:
            rows = frame.filter(pl.col("subject").is_in(column))
            for subject, msisdn, *values, seq in rows.iter_rows():
                if seq < folded_before.get(subject, 0):
                    continue  # folded by an earlier warm
                piece = ContactSummary(*values)
                per_subject = self._by_subject.get(subject)
                if per_subject is None:
                    per_subject = self._by_subject[subject] = {}
                summary = per_subject.get(msisdn)
                if summary is None or self._expired(summary, piece.first_at):
                    per_subject[msisdn] = piece
                else:
                    summary.merge(piece)
        for subject in wanted:
            self._cold_subjects.discard(subject)
            folded_before[subject] = self._next_seq

    def add(self, contact: Contact) -> ContactSummary:
        """Fold ``contact`` into its (subject, subscriber) summary and return the summary."""
        if contact.subject in self._cold_subjects:
            self.warm((contact.subject,))
        per_subject = self._by_subject.get(contact.subject)
        if per_subject is None:
            per_subject = self._by_subject[contact.subject] = {}
        summary = per_subject.get(contact.msisdn)
        if summary is None or self._expired(summary, contact.known_at):
            summary = per_subject[contact.msisdn] = ContactSummary(
                contact.known_at, contact.known_at
            )
        summary.add(contact)
        return summary

    def _expired(self, summary: ContactSummary, at: dt.datetime) -> bool:
        """Whether a contact at ``at`` finds the pair of ``summary`` strangers again."""
        return summary.last_at < at - self.lookback

    def has_subject(self, subject: str, *, since: dt.datetime | None = None) -> bool:
        """Whether any subscriber has a contact with ``subject`` (at or after ``since``)."""
        if since is None:
            return subject in self._by_subject or subject in self._cold_subjects
        return any(True for _ in self.exposed_to(subject, since=since))

    def summary(self, subject: str, msisdn: str) -> ContactSummary | None:
        """The summary of one pair, None when they never met."""
        self.warm((subject,))
        return self._by_subject.get(subject, {}).get(msisdn)

    def exposed_to(
        self, subject: str, *, since: dt.datetime
    ) -> Iterator[tuple[str, ContactSummary]]:
        """Subscribers whose last contact with ``subject`` is at or after ``since``, by number.

        In number order, not the order the pairs were first seen: that order depends on when
        the index was last pruned, and what a flag yields must not.
        """
        self.warm((subject,))
        pairs = self._by_subject.get(subject, {})
        for msisdn in sorted(pairs):
            summary = pairs[msisdn]
            if summary.last_at >= since:
                yield msisdn, summary

    def prune(self, now: dt.datetime) -> int:
        """Forget the pairs whose last contact is more than the look-back before ``now``.

        Also compacts the columnar part to one summary per pair (the per-batch pieces of a pair
        folded as :meth:`warm` would fold them, expiry included), so what is held is bounded
        by the pairs in touch within the look-back, not by the batches seen. Returns how many
        summaries (per-pair, and pieces) were dropped or folded away. A pair is judged on its
        latest contact, so a pair still in touch keeps its history. Invisible to every
        question asked for a moment at or after ``now`` (:meth:`exposed_to` with ``since`` at
        or after ``now - lookback``, a new contact, which would find the pair expired anyway),
        so when the loop calls it does not change what it decides.
        """
        horizon = now - self.lookback
        held = sum(frame.height for frame in self._cold)
        cold = pl.concat(self._cold, how="vertical") if self._cold else None
        if cold is not None and cold.height:
            cold = self._compact(self._unfolded(cold)).filter(pl.col("last_at") >= horizon)
        dropped = held - (cold.height if cold is not None else 0)
        in_cold = (
            cold.select("subject", "msisdn")
            if cold is not None and cold.height
            else pl.DataFrame(schema={"subject": pl.String, "msisdn": pl.String})
        )
        expired = [
            (subject, msisdn)
            for subject, pairs in self._by_subject.items()
            for msisdn, summary in pairs.items()
            if summary.last_at < horizon
        ]
        if expired:
            candidates = pl.DataFrame(
                {"subject": [e[0] for e in expired], "msisdn": [e[1] for e in expired]},
                schema={"subject": pl.String, "msisdn": pl.String},
            )
            # A pair whose later contacts are still columnar is in touch: keep its history.
            gone = candidates.join(in_cold, on=["subject", "msisdn"], how="anti")
            for subject, msisdn in gone.iter_rows():
                pairs = self._by_subject[subject]
                del pairs[msisdn]
                dropped += 1
                if not pairs:
                    del self._by_subject[subject]
        self._cold = [cold] if cold is not None and cold.height else []
        self._cold_subjects = (
            set(self._cold[0].get_column("subject").unique().to_list()) if self._cold else set()
        )
        # Subjects with nothing left anywhere need no fold bookkeeping either.
        live = self._cold_subjects | set(self._by_subject)
        self._folded_before = {s: q for s, q in self._folded_before.items() if s in live}
        return dropped

    def _unfolded(self, cold: pl.DataFrame) -> pl.DataFrame:
        """``cold`` without the pieces already folded into the per-pair part (stale copies)."""
        if not self._folded_before:
            return cold
        folded = pl.DataFrame(
            {"subject": list(self._folded_before), "_folded": list(self._folded_before.values())},
            schema={"subject": pl.String, "_folded": pl.Int64},
        )
        return (
            cold.join(folded, on="subject", how="left", maintain_order="left")
            .filter(pl.col("_folded").is_null() | (pl.col("_seq") >= pl.col("_folded")))
            .drop("_folded")
        )

    def _compact(self, cold: pl.DataFrame) -> pl.DataFrame:
        """One piece per pair: its pieces folded in order, restarting where a pair expired.

        A restart is a piece whose first contact comes more than the look-back after the
        latest contact of the pair's pieces before it (what :meth:`warm` checks piece by
        piece); only the pieces from a pair's last restart on are folded. Done on NumPy
        arrays over the pairs sorted once: Polars' per-group windows cost microseconds a
        group, and most pairs have a piece or two.
        """
        if not cold.height:
            return cold
        pair = ("subject", "msisdn")
        ordered = cold.sort(*pair, "_seq").with_columns(
            pl.struct(*pair).rle_id().cast(pl.Int64).alias("_pair")
        )
        pair_id = ordered.get_column("_pair").to_numpy()
        first_us = ordered.get_column("first_at").dt.epoch("us").to_numpy()
        last_us = ordered.get_column("last_at").dt.epoch("us").to_numpy()
        starts = np.flatnonzero(np.diff(pair_id, prepend=np.int64(-1)))
        # The latest contact of the pieces before each one, within its pair: a running
        # maximum over all rows, each pair lifted above the ones before it.
        base = int(last_us.min())
        span = int(last_us.max()) - base + 1
        if span * (int(pair_id[-1]) + 1) < 2**62:
            lifted = pair_id * span + (last_us - base)
            running = np.maximum.accumulate(lifted) - pair_id * span + base
        else:  # a span of centuries: one running maximum per pair
            running = np.concatenate(
                [np.maximum.accumulate(part) for part in np.split(last_us, starts[1:])]
            )
        before = np.empty_like(running)
        before[1:] = running[:-1]
        restart = (first_us - before) > int(self.lookback / dt.timedelta(microseconds=1))
        restart[starts] = True
        segment = np.cumsum(restart)
        sizes = np.diff(np.append(starts, len(pair_id)))
        last_segment = np.repeat(segment[np.append(starts[1:], len(pair_id)) - 1], sizes)
        kept = ordered.filter(pl.Series(segment == last_segment))
        # The last record is that of the pair's latest piece (latest ``last_at``, then latest
        # ``_seq``: the rows are in ``_seq`` order within a pair), found as the largest of one
        # integer per row rather than by a sort within every group.
        n = kept.height
        latest = pl.col("last_at").rank("dense").cast(pl.Int64) * n + pl.int_range(
            n, dtype=pl.Int64
        )
        folded = (
            kept.with_columns(latest.alias("_latest"))
            .group_by("_pair", maintain_order=True)
            .agg(
                pl.col("subject").first(),
                pl.col("msisdn").first(),
                pl.col("first_at").min(),
                pl.col("last_at").max(),
                *(pl.col(name).sum() for name, _ in _COUNTED),
                pl.col("longest_answered_s").max(),
                pl.col("answered_total_s").sum(),
                (pl.col("_latest").max() % n).alias("_row"),
                pl.col("_seq").max(),
            )
        )
        rows = folded.get_column("_row")
        return (
            folded.with_columns(
                kept.get_column("last_record_kind").gather(rows),
                kept.get_column("last_record_id").gather(rows),
            )
            .select(cold.columns)
            .cast(cold.schema)
        )
