"""The conformance suite of rule evaluators: any frame evaluator must agree with ``decide``.

The per-event evaluator behind :meth:`Screener.decide` is the reference (it also explains
itself in the trace). A frame evaluator, such as :func:`~telewarden.core.screening.batch.
decide_frame` or a later Spark job, is a function ``(snapshot, events) -> frame`` that adds
:data:`~telewarden.core.screening.batch.OUTPUT_COLUMNS` and ``caller_e164`` to ``events``.
:func:`check_rule_evaluator` runs it over a frame and compares every output column with the
reference, row by row, and (with ``every_rule``) checks that every rule of the snapshot's rule
set fired somewhere, so a new rule is covered as soon as the traffic reaches it.

:func:`conformance_snapshots` and :func:`conformance_events` are the shared fixtures: four
policies (defaults, content inspection, region overrides, both) with opt-ins and allow/deny
lists, and seeded traffic that exercises every shipped rule. A test suite adds generated
events (hypothesis) on top; see ``tests/unit/core/test_screening_conformance.py``.

Examples
--------
>>> from telewarden.core.screening.batch import decide_frame
>>> snapshot = conformance_snapshots()["defaults"]
>>> report = check_rule_evaluator(decide_frame, snapshot, conformance_events(1, 400))
>>> report.rows, report.fired["domestic"] > 0
(400, True)
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from telewarden.core.screening.facts import NumberLookup
from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.rules import DEFAULT_RULES, RuleSet
from telewarden.core.screening.settings import PolicySettings, RegionPolicy
from telewarden.core.screening.snapshot import PolicySnapshot
from telewarden.core.screening.types import (
    Channel,
    ContentFinding,
    Ingress,
    ListEntry,
    MatchKind,
    OptIn,
    OptInScope,
    ScreeningEvent,
)

__all__ = [
    "COMPARED_COLUMNS",
    "ConformanceReport",
    "FrameEvaluator",
    "KeywordInspector",
    "check_rule_evaluator",
    "conformance_events",
    "conformance_snapshots",
    "reference_rows",
]

FrameEvaluator = Callable[[PolicySnapshot, pl.DataFrame], pl.DataFrame]
"""A frame evaluator: the events plus the decision columns, same rows, same order."""

COMPARED_COLUMNS: tuple[str, ...] = (
    "verdict",
    "reason",
    "rule",
    "sip_status",
    "sip_reason",
    "origin",
    "caller_e164",
)

T0 = dt.datetime(2026, 5, 20, tzinfo=dt.UTC)
SUBSCRIBERS = [f"13{d}{i:08d}" for d in range(10) for i in range(0, 10**8, 10**7)]
DOMESTIC = [f"15{d}{i:08d}" for d in range(10) for i in range(3, 10**8, 10**7)] + [
    "01012345678",
    "075512345678",
    "02187654321",
]
FOREIGN = [
    "+85291234567",
    "+85362345678",
    "+886912345678",
    "+85512345678",
    "+639171234567",
    "+959712345678",
    "+447912345678",
    "+12025550123",
    "+60123456789",
    "0085291234567",
]
DENIED = ["18600000001", "18600000002", "+8618600000003"]
SERVICES = ["110", "95588", "10086", "12381", "96110", "95533"]
FAKES = ["+110", "0110", "00110", "96110123", "+95588", "1101"]
INVALID = ["14812345678", "+852123", "abc", "", "+99912345", "1234567890123456", "+", "   "]
EMERGENCY = ["110", "119", "120", "122", "112", "12110", "96110", "12381"]
INGRESS_TEXT = ["domestic", "international", "intl", "igw", "unknown", "", "nonsense", None]
CHANNEL_TEXT = ["call", "sms", "SMS", "voice", "text", "fax", "", None]
TEXTS = [None, "", "hello", "请转账到安全账户", "big sale today"]
NUMBER_POOLS: tuple[list[str], ...] = (
    DOMESTIC,
    DOMESTIC,
    FOREIGN,
    FOREIGN,
    DENIED,
    SERVICES,
    FAKES,
    INVALID,
    SUBSCRIBERS,
)


class KeywordInspector:
    """Scam when the body mentions a transfer, spam when it advertises, else ok."""

    def inspect(self, text: str) -> ContentFinding:
        """Return the finding for ``text``."""
        if "转账" in text or "transfer" in text:
            return ContentFinding("scam", 0.97, "asks for a transfer")
        if "sale" in text:
            return ContentFinding("spam", 0.7, "advertising")
        return ContentFinding("ok", 0.1, "nothing found")


def _optins() -> OptInBook:
    book = OptInBook()
    for i, msisdn in enumerate(SUBSCRIBERS[::3]):
        scope = (OptInScope.CALLS, OptInScope.SMS, OptInScope.BOTH)[i % 3]
        book.set(OptIn("+86" + msisdn, scope, i % 4 != 0, T0, "sms-1219"))
    return book


def _lists() -> tuple[NumberList, NumberList]:
    deny = NumberList(
        [ListEntry("+86" + n.lstrip("+86"), MatchKind.EXACT, "police", "fraud") for n in DENIED]
        + [
            ListEntry("+86170", MatchKind.PREFIX, "miit", "virtual operator range"),
            ListEntry("+861701", MatchKind.PREFIX, "ops", "narrower range"),
            ListEntry("+85291", MatchKind.PREFIX, "ops", "reported range"),
        ]
    )
    allow = NumberList(
        [
            ListEntry("+8615012345673", MatchKind.EXACT, "bank", "registered"),
            ListEntry("+4479", MatchKind.PREFIX, "partner", "enterprise trunk"),
            ListEntry("+8618600000002", MatchKind.EXACT, "gov", "allow beats deny"),
        ]
    )
    return deny, allow


def conformance_snapshots(
    rules: RuleSet = DEFAULT_RULES,
    *,
    lookups: Mapping[str, NumberLookup] | None = None,
) -> dict[str, PolicySnapshot]:
    """The fixture policies, by name: ``defaults``, ``content``, ``overrides``, ``both``.

    Each has opt-ins (in and out, every scope), an allow and a deny list (exact and prefix,
    an allow entry that beats a deny entry) and ``rules`` with ``lookups`` injected.
    """
    out: dict[str, PolicySnapshot] = {}
    for name, inspection, overrides in (
        ("defaults", False, False),
        ("content", True, False),
        ("overrides", False, True),
        ("both", True, True),
    ):
        deny, allow = _lists()
        policy = PolicySettings(
            content_inspection=inspection,
            content_legal_basis="conformance: synthetic messages" if inspection else None,
            high_risk_countries=["KH", "MM", "PH"],
            region_overrides=(
                {"Beijing": RegionPolicy(cross_border_block_calls=False), "广东": RegionPolicy()}
                if overrides
                else {}
            ),
            spam_verdict="block" if name == "both" else "allow_labelled",
        )
        out[name] = PolicySnapshot.build(
            policy,
            rules=rules,
            optins=_optins(),
            deny=deny,
            allow=allow,
            content=KeywordInspector() if inspection else None,
            lookups=lookups,
        )
    return out


def conformance_events(seed: int, n: int, *, extra_callers: Sequence[str] = ()) -> pl.DataFrame:
    """``n`` seeded events over the fixture pools (and ``extra_callers`` if given).

    Columns ``caller, callee, channel, ingress, text``, free text as files carry it.
    """
    rng = random.Random(seed)
    pools = [*NUMBER_POOLS, list(extra_callers)] if extra_callers else list(NUMBER_POOLS)
    rows: list[dict[str, str | None]] = []
    for _ in range(n):
        caller = rng.choice(rng.choice(pools))
        if rng.random() < 0.1:
            caller = "+86" + rng.choice(DOMESTIC).lstrip("0")
        if rng.random() < 0.05:
            caller = f"170{rng.randrange(3)}{rng.randrange(10**7):07d}"
        callee = rng.choice(SUBSCRIBERS) if rng.random() < 0.9 else rng.choice(EMERGENCY)
        rows.append(
            {
                "caller": caller,
                "callee": callee,
                "channel": rng.choice(CHANNEL_TEXT),
                "ingress": rng.choice(INGRESS_TEXT),
                "text": rng.choice(TEXTS),
            }
        )
    names = ("caller", "callee", "channel", "ingress", "text")
    return pl.DataFrame(
        {k: [r[k] for r in rows] for k in names}, schema=dict.fromkeys(names, pl.String)
    )


def reference_rows(snapshot: PolicySnapshot, events: pl.DataFrame) -> list[tuple[object, ...]]:
    """The per-event evaluator's :data:`COMPARED_COLUMNS` for every row of ``events``."""
    columns = events.columns
    out: list[tuple[object, ...]] = []
    for row in events.iter_rows(named=True):
        caller, callee = row["caller"], row["callee"]
        event = ScreeningEvent(
            caller if caller is not None else "",
            callee if callee is not None else "",
            Channel.from_str(row["channel"]) if "channel" in columns else Channel.CALL,
            Ingress.from_str(row["ingress"]) if "ingress" in columns else Ingress.UNKNOWN,
            text=row.get("text"),
        )
        d = snapshot.decide(event)
        out.append(
            (
                d.verdict.value,
                d.reason.value,
                d.rule,
                d.sip_status,
                d.sip_reason,
                d.origin,
                d.caller.e164,
            )
        )
    return out


@dataclass(frozen=True)
class ConformanceReport:
    """What a passing check saw: rows compared and how often each rule fired."""

    rows: int
    fired: Counter[str]


def check_rule_evaluator(
    evaluate_frame: FrameEvaluator,
    snapshot: PolicySnapshot,
    events: pl.DataFrame,
    *,
    every_rule: bool = False,
) -> ConformanceReport:
    """Assert that ``evaluate_frame`` decides every row of ``events`` as ``decide`` does.

    Parameters
    ----------
    evaluate_frame : FrameEvaluator
        The evaluator under test.
    snapshot : PolicySnapshot
        The policy both evaluators use (the frame evaluator may warm its number cache; the
        reference runs after it, as a live system would).
    events : polars.DataFrame
        Columns ``caller``, ``callee`` and optionally ``channel``, ``ingress``, ``text``.
    every_rule : bool
        Also assert that every rule of ``snapshot.rules`` fired at least once.

    Raises
    ------
    AssertionError
        On the first row that differs (with the row, both outcomes and the column), when the
        input columns or row order are not preserved, or when a rule never fired.
    """
    got = evaluate_frame(snapshot, events)
    if got.height != events.height:
        raise AssertionError(f"evaluator returned {got.height} rows for {events.height}")
    if not got.select(events.columns).equals(events):
        raise AssertionError("evaluator changed the input columns or the row order")
    missing = [c for c in COMPARED_COLUMNS if c not in got.columns]
    if missing:
        raise AssertionError(f"evaluator output lacks columns {missing}")
    observed = got.select(COMPARED_COLUMNS).rows()
    expected = reference_rows(snapshot, events)
    for i, (want, have) in enumerate(zip(expected, observed, strict=True)):
        if want != have:
            column = next(
                name for name, a, b in zip(COMPARED_COLUMNS, want, have, strict=True) if a != b
            )
            raise AssertionError(
                f"row {i} {events.row(i, named=True)}: {column} differs\n"
                f"  decide:    {want}\n  evaluator: {have}"
            )
    fired = Counter(str(row[2]) for row in expected)
    if every_rule:
        never = [rule.name for rule in snapshot.rules.rules if not fired[rule.name]]
        if never:
            raise AssertionError(f"rules never fired on this traffic: {never}")
    return ConformanceReport(len(expected), fired)
