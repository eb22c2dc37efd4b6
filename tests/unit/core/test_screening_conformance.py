"""The rule evaluators' conformance suite, run on decide_frame; rules defined once, as data."""

from __future__ import annotations

import threading
from collections import Counter

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.screening import (
    DEFAULT_RULES,
    RULES,
    Outcome,
    PolicySettings,
    PolicySnapshot,
    ReasonCode,
    Rule,
    Screener,
    ScreeningEvent,
    Verdict,
    WhyNot,
    caller,
    decide_frame,
    event,
)
from telewarden.core.screening.conditions import TRUE
from telewarden.core.screening.conformance import (
    CHANNEL_TEXT,
    DOMESTIC,
    EMERGENCY,
    FAKES,
    FOREIGN,
    INVALID,
    SERVICES,
    SUBSCRIBERS,
    check_rule_evaluator,
    conformance_events,
    conformance_snapshots,
)
from telewarden.core.screening.facts import EventFacts


def test_decide_frame_conforms_on_the_fixture_policies_and_every_rule_fires() -> None:
    fired: Counter[str] = Counter()
    for name, snapshot in conformance_snapshots().items():
        report = check_rule_evaluator(decide_frame, snapshot, conformance_events(7, 3000))
        assert report.rows == 3000, name
        fired += report.fired
    assert set(fired) == {name for name, _ in RULES}


_SNAPSHOT = conformance_snapshots()["both"]
_text = st.one_of(st.none(), st.text(max_size=20))
_number = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="+0123456789 -()", max_size=18),
    st.sampled_from(DOMESTIC + FOREIGN + SERVICES + FAKES + INVALID + EMERGENCY + SUBSCRIBERS),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(_number, _number, st.sampled_from(CHANNEL_TEXT), _text, _text),
        min_size=1,
        max_size=12,
    )
)
def test_decide_frame_conforms_on_generated_events(
    rows: list[tuple[str, str, str | None, str | None, str | None]],
) -> None:
    frame = pl.DataFrame(
        rows,
        schema=dict.fromkeys(("caller", "callee", "channel", "ingress", "text"), pl.String),
        orient="row",
    )
    check_rule_evaluator(decide_frame, _SNAPSHOT, frame)


def test_the_suite_catches_an_evaluator_that_disagrees_on_one_row() -> None:
    def off_by_one(snapshot: PolicySnapshot, events: pl.DataFrame) -> pl.DataFrame:
        out = decide_frame(snapshot, events)
        flipped = pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("allow"))
        return out.with_columns(flipped.otherwise(pl.col("verdict")).alias("verdict"))

    snapshot = conformance_snapshots()["defaults"]
    events = conformance_events(3, 50)
    with pytest.raises(AssertionError, match="row 5"):
        check_rule_evaluator(off_by_one, snapshot, events)


# -- a hypothetical new rule, as CONTRIBUTING.md adds it: one definition ----------------------


class Measures:
    """An injected per-number lookup: the measure a card is under (as disposal would keep)."""

    version = 0

    def __init__(self, by_msisdn: dict[str, str]) -> None:
        self.by_msisdn = by_msisdn

    def lookup(self, e164: str) -> str | None:
        return self.by_msisdn.get(e164)


def _measure_detail(f: EventFacts) -> str:
    assert f.caller_listing is not None
    return f"caller's card is {f.caller_listing.looked_up['measure']}"


CARD_MEASURE = Rule(
    "card_measure",
    15,
    [
        Outcome(
            caller.measure.isin(["restricted", "suspended"]) & event.channel.isin(["call", "sms"]),
            Verdict.BLOCK,
            ReasonCode.define("card_under_measure"),
            _measure_detail,
            sip_reason="Network Blocked; cause={reason}; card under measure; appeal={appeal_contact}",
            message="Blocked {a_what}: your card is under a measure. {appeal}",
        ),
        Outcome(
            caller.measure.eq("pending_reverification") & event.sms,
            Verdict.BLOCK,
            ReasonCode.define("card_pending_reverification"),
            _measure_detail,
        ),
    ],
    [WhyNot(caller.measure.is_null(), "caller's card is under no measure"),
     WhyNot(TRUE, "the measure does not cover this channel")],
)  # fmt: skip

MEASURED = {
    "+8615012345673": "restricted",  # also on the allow list: the measure ranks above it
    "+8615103000003": "suspended",
    "+8615203000003": "pending_reverification",
    "+8613000000000": "restricted",  # a subscriber, also a callee
    "+8618600000001": "suspended",  # also deny-listed
}


def test_a_new_rule_is_one_definition_and_the_suite_covers_it() -> None:
    rules = DEFAULT_RULES.with_rule(CARD_MEASURE)
    assert [r.name for r in DEFAULT_RULES] == [name for name, _ in RULES]  # the copy only
    lookups = {"measure": Measures(MEASURED)}
    callers = [n.removeprefix("+86") for n in MEASURED]
    fired: Counter[str] = Counter()
    for snapshot in conformance_snapshots(rules, lookups=lookups).values():
        events = conformance_events(11, 2500, extra_callers=callers)
        fired += check_rule_evaluator(decide_frame, snapshot, events).fired
    assert set(fired) == {r.name for r in rules}


def test_the_new_rule_explains_itself_in_the_trace() -> None:
    screener = Screener(rules=DEFAULT_RULES.with_rule(CARD_MEASURE), lookups={
        "measure": Measures(MEASURED)
    })  # fmt: skip
    blocked = screener.decide(ScreeningEvent("15103000003", "13800138000"))
    assert (blocked.rule, blocked.reason.value) == ("card_measure", "card_under_measure")
    assert blocked.sip_reason == (
        "Network Blocked; cause=card_under_measure; card under measure; appeal=10086"
    )
    assert [t.detail for t in blocked.trace if t.fired] == ["caller's card is suspended"]
    assert [t.rule for t in blocked.trace][:3] == [
        "emergency_callee",
        "card_measure",
        "service_number_impersonation",
    ]
    plain = screener.decide(ScreeningEvent("13900139000", "13800138000"))
    line = next(t for t in plain.trace if t.rule == "card_measure")
    assert (line.fired, line.priority, line.detail) == (
        False,
        15,
        "caller's card is under no measure",
    )
    pending_call = screener.decide(ScreeningEvent("15203000003", "13800138000"))
    assert pending_call.reason is ReasonCode.DOMESTIC
    assert "does not cover this channel" in screener.explain(
        ScreeningEvent("15203000003", "13800138000")
    )
    # Calls to emergency numbers are never blocked: that rule ranks first.
    assert screener.decide(ScreeningEvent("15103000003", "110")).reason is (
        ReasonCode.EMERGENCY_CALLEE
    )


def test_a_rule_reading_an_unknown_fact_is_rejected_when_compiled() -> None:
    broken = Rule(
        "typo", 5, [Outcome(caller.mesure.eq("x"), Verdict.BLOCK, ReasonCode.UNKNOWN, "x")], "-"
    )
    with pytest.raises(ValueError, match="unknown fact 'caller.mesure'"):
        Screener(rules=DEFAULT_RULES.with_rule(broken)).decide(ScreeningEvent("1", "2"))


def test_rule_names_and_priorities_must_be_unique() -> None:
    clash = Rule("other", 10, [Outcome(TRUE, Verdict.ALLOW, ReasonCode.DOMESTIC, "x")], "-")
    with pytest.raises(ValueError, match="priorities must be unique"):
        DEFAULT_RULES.with_rule(clash)


# -- snapshots ----------------------------------------------------------------------------------


def test_a_snapshot_keeps_its_policy_when_the_settings_object_is_edited() -> None:
    settings = PolicySettings()
    snapshot = PolicySnapshot.build(settings)
    settings.cross_border_block_calls = False
    hk = ScreeningEvent("+85223456789", "13800138000")
    assert snapshot.decide(hk).reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK
    assert Screener(settings).decide(hk).reason is ReasonCode.CROSS_BORDER_ALLOWED


def test_swapping_snapshots_under_concurrent_decisions_never_mixes_policies() -> None:
    strict = PolicySnapshot.build(PolicySettings(appeal_contact="111"))
    lenient = PolicySnapshot.build(
        PolicySettings(cross_border_block_calls=False, appeal_contact="222"),
        numbers=strict.numbers,
    )
    screener = Screener.from_snapshot(strict)
    hk = ScreeningEvent("+85223456789", "13800138000")
    seen: set[tuple[str, str]] = set()
    stop = threading.Event()

    def decide_until_stopped() -> None:
        while not stop.is_set():
            d = screener.decide(hk)
            seen.add((d.reason.value, d.sip_reason))

    workers = [threading.Thread(target=decide_until_stopped) for _ in range(3)]
    for w in workers:
        w.start()
    for i in range(201):  # ends on strict
        screener.swap(lenient if i % 2 else strict)
    stop.set()
    for w in workers:
        w.join()
    assert seen <= {
        ("cross_border_default_block", "Network Blocked; cause=cross_border_default_block; appeal=111"),
        ("cross_border_allowed", "origin=Hong Kong; cause=cross_border_allowed"),
    }  # fmt: skip
    assert screener.snapshot is strict


def test_the_shipped_card_measure_rule_conforms_and_spares_emergency_calls() -> None:
    from telewarden.core.screening import CARD_MEASURE, MEASURE_RULES

    lookups = {"measure": Measures({**MEASURED, "+8613100000000": "flagged_off_net"})}
    callers = [n.removeprefix("+86") for n in MEASURED]
    fired: Counter[str] = Counter()
    for snapshot in conformance_snapshots(MEASURE_RULES, lookups=lookups).values():
        events = conformance_events(13, 2500, extra_callers=callers)
        fired += check_rule_evaluator(decide_frame, snapshot, events).fired
    assert CARD_MEASURE.name in fired
    assert "call_to_flagged_number" in fired
    screener = Screener(rules=MEASURE_RULES, lookups=lookups)
    pending = screener.decide(ScreeningEvent("15203000003", "13800138000"))
    assert pending.reason.value == "card_pending_reverification"
    assert screener.decide(ScreeningEvent("15103000003", "110")).reason is (
        ReasonCode.EMERGENCY_CALLEE
    )


class SparseMeasures(Measures):
    """The same lookup, offering the numbers it may answer for (the batch pre-filter)."""

    def __init__(self, by_msisdn: dict[str, str], offered: list[str] | None = None) -> None:
        super().__init__(by_msisdn)
        self.offered = list(by_msisdn) if offered is None else offered

    def candidates(self) -> list[str]:
        return self.offered


def test_a_lookup_offering_its_candidates_conforms_and_a_short_list_is_caught() -> None:
    from telewarden.core.screening import CARD_MEASURE, MEASURE_RULES

    measured = {**MEASURED, "+8613100000000": "flagged_off_net"}
    callers = [n.removeprefix("+86") for n in MEASURED]
    fired: Counter[str] = Counter()
    for snapshot in conformance_snapshots(
        MEASURE_RULES, lookups={"measure": SparseMeasures(measured)}
    ).values():
        events = conformance_events(13, 2500, extra_callers=callers)
        fired += check_rule_evaluator(decide_frame, snapshot, events).fired
    assert CARD_MEASURE.name in fired and "call_to_flagged_number" in fired
    # A lookup that leaves a number it answers for out of its candidates breaks the batch path.
    short = SparseMeasures(measured, offered=[n for n in measured if n != "+8615103000003"])
    snapshot = next(iter(conformance_snapshots(MEASURE_RULES, lookups={"measure": short}).values()))
    with pytest.raises(AssertionError):
        check_rule_evaluator(
            decide_frame, snapshot, conformance_events(13, 2500, extra_callers=callers)
        )
