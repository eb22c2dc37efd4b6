"""Disposal core: the case state machine, timers, policy, notices, read model, credit terms."""

from __future__ import annotations

import copy
import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from telewarden.core.disposal import (
    Approval,
    Case,
    CaseState,
    DisposalPolicy,
    FlagRecord,
    LiftReason,
    MeasureBook,
    MeasureKind,
    MeasureState,
    Severity,
    render_lift_notice,
    render_measure_notice,
)
from telewarden.core.disposal.credit import (
    CreditListing,
    add_years,
    check_sale,
    id_key,
    plan_listing,
)
from telewarden.core.disposal.model import MEASURE_TRANSITIONS
from telewarden.core.errors import ConflictError, InvalidInputError, TelewardenError

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
CARD = "+8613800138000"
POLICY = DisposalPolicy()


def _ids(prefix: str) -> itertools.count[int]:
    return itertools.count(1)


def _new_case(source: str = "sim_bank_imei", at: dt.datetime = T0) -> tuple[Case, list[str]]:
    counter = itertools.count(1)
    case = Case("C1", CARD, at)
    events = case.add_flag(FlagRecord(f"k-{source}", source, at, "evidence"), actor="detector")
    for m in POLICY.automatic_measures(case, source, at=at, new_id=lambda: f"M{next(counter)}"):
        events += case.propose(m)
    return case, [e.kind for e in events]


def test_a_sim_bank_flag_brings_a_blocking_reverification_with_a_24_hour_deadline() -> None:
    case, kinds = _new_case()
    assert kinds == ["case_opened", "measure_proposed", "measure_in_force"]
    (m,) = case.measures
    assert m.kind is MeasureKind.REVERIFY and m.state is MeasureState.IN_FORCE
    assert m.deadline == T0 + dt.timedelta(hours=24)
    assert case.severity_at(T0) is Severity.LIMITED
    assert MeasureBook(case.measures).restriction_for(CARD, T0) is not None


def test_a_scorer_flag_reverifies_without_blocking_traffic() -> None:
    case, _ = _new_case("scorer")
    assert case.severity_at(T0) is Severity.WARNED
    assert MeasureBook(case.measures).restriction_for(CARD, T0) is None


def test_an_unmet_deadline_escalates_to_suspension_from_the_deadline_itself() -> None:
    case, _ = _new_case()
    deadline = T0 + dt.timedelta(hours=24)
    # Before any timer runs, the read model already treats the missed deadline as escalated.
    assert case.severity_at(deadline) is Severity.SUSPENDED
    counter = itertools.count(100)
    events = case.tick(
        deadline + dt.timedelta(hours=3), escalation=POLICY.escalation(lambda: f"M{next(counter)}")
    )
    assert [e.kind for e in events] == ["measure_escalated", "measure_proposed", "measure_in_force"]
    suspend = case.measures[-1]
    assert suspend.kind is MeasureKind.SUSPEND and suspend.in_force_at == deadline
    assert suspend.reason == "unverified" and suspend.escalated_from == "M1"
    # Re-verifying later restores the card at once (O4a).
    case.pass_reverification(by="shop-12", at=deadline + dt.timedelta(hours=5))
    assert case.severity_at(deadline + dt.timedelta(hours=5)) is Severity.NONE


def test_passed_reverification_lifts_at_once() -> None:
    case, _ = _new_case()
    at = T0 + dt.timedelta(hours=2)
    events = case.pass_reverification(by="online", at=at)
    assert [e.kind for e in events] == ["measure_lifted"]
    assert case.measures[0].lift_reason is LiftReason.REVERIFIED
    assert MeasureBook(case.measures).restriction_for(CARD, at) is None


def test_a_won_appeal_lifts_every_measure_and_clears_the_case() -> None:
    case, _ = _new_case("police")
    assert case.severity_at(T0) is Severity.RESTRICTED
    case.lodge_appeal(
        "A1", grounds="my card", channel="hall", at=T0, review_within=POLICY.appeal_review_within
    )
    at = T0 + dt.timedelta(hours=1)
    events = case.decide_appeal(upheld=True, by="sup", at=at)
    assert events[0].kind == "appeal_upheld"
    assert case.state is CaseState.CLEARED and case.in_force(at) == []
    case.check_invariants(at)
    with pytest.raises(ConflictError):
        case.add_flag(FlagRecord("k2", "scorer", at, "again"), actor="x")


def test_a_rejected_appeal_returns_the_case_to_its_previous_state() -> None:
    case, _ = _new_case()
    case.confirm(by="ana", at=T0)
    case.lodge_appeal("A1", grounds="no", channel="web", at=T0, review_within=dt.timedelta(1))
    case.decide_appeal(upheld=False, by="sup", at=T0)
    assert case.state is CaseState.CONFIRMED and case.in_force(T0)


def test_suspension_needs_a_supervisor_other_than_the_proposer() -> None:
    case, _ = _new_case("analyst")
    m = POLICY.proposed_measure(case, MeasureKind.SUSPEND, measure_id="S1", by="ana", at=T0)
    case.propose(m)
    assert case.measure("S1").state is MeasureState.PENDING_APPROVAL
    with pytest.raises(ConflictError, match="needs supervisor"):
        case.approve("S1", by="ana", role=Approval.ANALYST, at=T0)
    case.approve("S1", by="sup", role=Approval.SUPERVISOR, at=T0)
    assert case.measure("S1").state is MeasureState.IN_FORCE


def test_terms_expire_by_themselves_and_on_the_timer() -> None:
    case, _ = _new_case("analyst")
    m = POLICY.proposed_measure(case, MeasureKind.RESTRICT, measure_id="R1", by="ana", at=T0)
    case.propose(m)
    case.approve("R1", by="ana", role=Approval.ANALYST, at=T0)
    end = T0 + dt.timedelta(days=90)
    book = MeasureBook(case.measures)
    assert book.restriction_for(CARD, end - dt.timedelta(seconds=1)) is not None
    assert book.restriction_for(CARD, end) is None
    events = case.tick(end + dt.timedelta(days=1), escalation=POLICY.escalation(lambda: "X"))
    assert [e.kind for e in events] == ["measure_expired"]
    assert case.measure("R1").ended_at == end


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_notices_state_reason_remedy_documents_and_deadline(lang: str) -> None:
    case, _ = _new_case()
    notice = render_measure_notice(case.measures[0], lang).body
    expected = {
        "zh": [
            "涉诈异常",
            "救济渠道",
            "本人有效身份证件原件",
            "2026-12-02 16:00",
            "申诉",
            "第三十二条",
        ],
        "en": [
            "fraud-related",
            "Remedy channel",
            "valid ID document",
            "2026-12-02 16:00",
            "appeal",
        ],
    }[lang]
    for phrase in expected:
        assert phrase in notice
    case.pass_reverification(by="x", at=T0)
    assert "2026-12-01 16:00" in render_lift_notice(case.measures[0], lang).body
    with pytest.raises(InvalidInputError):
        render_measure_notice(case.measures[0], "fr")


def test_credit_terms_two_or_three_years_and_five_in_a_row() -> None:
    with pytest.raises(InvalidInputError):
        plan_listing([], id_hash="h", basis="fraud", start=T0, term_years=4, listing_id="L")
    first = plan_listing([], id_hash="h", basis="fraud", start=T0, term_years=3, listing_id="L1")
    second = plan_listing(
        [first], id_hash="h", basis="fraud", start=first.ends_at, term_years=2, listing_id="L2"
    )
    assert second.ends_at == add_years(T0, 5)
    with pytest.raises(ConflictError):
        plan_listing(
            [first, second],
            id_hash="h",
            basis="fraud",
            start=second.ends_at,
            term_years=2,
            listing_id="L3",
        )
    # A listing requested while one is active runs on from its end.
    overlapping = plan_listing(
        [first],
        id_hash="h",
        basis="fraud",
        start=T0 + dt.timedelta(days=10),
        term_years=2,
        listing_id="L4",
    )
    assert overlapping.starts_at == first.ends_at
    # After a gap a new run starts.
    later = plan_listing(
        [first, second],
        id_hash="h",
        basis="fraud",
        start=add_years(T0, 6),
        term_years=3,
        listing_id="L5",
    )
    assert later.term_years == 3


def test_sale_check_refuses_listed_ids_and_ids_at_the_limit() -> None:
    listing = CreditListing("L", "h", "fraud", T0, add_years(T0, 2), 2)
    assert not check_sale(cards_held=0, limit=5, listings=[listing], at=T0).allowed
    assert check_sale(cards_held=0, limit=5, listings=[listing], at=add_years(T0, 2)).allowed
    assert not check_sale(cards_held=5, limit=5, listings=[], at=T0).allowed
    assert check_sale(cards_held=4, limit=5, listings=[], at=T0).allowed
    lifted = listing.lifted(at=T0 + dt.timedelta(days=1), reason="repair")
    assert check_sale(
        cards_held=0, limit=5, listings=[lifted], at=T0 + dt.timedelta(days=2)
    ).allowed


def test_id_keys_depend_on_the_key() -> None:
    assert id_key(b"a", "110101199003078033") != id_key(b"b", "110101199003078033")
    with pytest.raises(InvalidInputError):
        id_key(b"a", "  ")


# -- property test: random sequences of everything a case can go through ---------------------

SOURCES = ["sim_bank_imei", "scorer", "police", "deny_list", "analyst", "new_card_burst"]
ACTORS = ["ana", "bob", "sup"]
ROLES = list(Approval)


class CaseMachine(RuleBasedStateMachine):
    """Drives one case with arbitrary, often invalid, operations and checks it stays sane."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.counter = itertools.count(1)
        self.case = Case("C1", CARD, T0)
        self.case.add_flag(FlagRecord("k0", "scorer", T0, "first"), actor="d")
        self.states = {m.id: m.state for m in self.case.measures}
        self.cleared_at: dt.datetime | None = None
        self.book = MeasureBook()

    def _new_id(self) -> str:
        return f"M{next(self.counter)}"

    def _apply(self, operation: object) -> None:
        before = copy.deepcopy(self.case)
        try:
            events = operation()  # type: ignore[operator]
        except TelewardenError:
            # A refused operation leaves the case exactly as it was.
            assert self.case == before
            return
        for e in events:
            if e.measure is not None:
                self.book.put(e.measure)
        # Every measure moved along an allowed edge.
        for m in self.case.measures:
            old = self.states.get(m.id)
            if old is not None and old is not m.state:
                assert m.state in MEASURE_TRANSITIONS[old], (old, m.state)
            self.states[m.id] = m.state
        if self.case.state is CaseState.CLEARED and self.cleared_at is None:
            self.cleared_at = self.now

    @rule(source=st.sampled_from(SOURCES), key=st.integers(0, 5))
    def flag(self, source: str, key: int) -> None:
        def op() -> list[object]:
            events: list[object] = list(
                self.case.add_flag(FlagRecord(f"k{key}", source, self.now, "r"), actor="d")
            )
            for m in POLICY.automatic_measures(self.case, source, at=self.now, new_id=self._new_id):
                events += self.case.propose(m)
            return events

        self._apply(op)

    @rule(kind=st.sampled_from(list(MeasureKind)), by=st.sampled_from(ACTORS))
    def propose(self, kind: MeasureKind, by: str) -> None:
        self._apply(
            lambda: self.case.propose(
                POLICY.proposed_measure(
                    self.case, kind, measure_id=self._new_id(), by=by, at=self.now
                )
            )
        )

    @rule(index=st.integers(0, 8), by=st.sampled_from(ACTORS), role=st.sampled_from(ROLES))
    def approve(self, index: int, by: str, role: Approval) -> None:
        if index < len(self.case.measures):
            mid = self.case.measures[index].id
            self._apply(lambda: self.case.approve(mid, by=by, role=role, at=self.now))

    @rule(index=st.integers(0, 8))
    def reject(self, index: int) -> None:
        if index < len(self.case.measures):
            mid = self.case.measures[index].id
            self._apply(lambda: self.case.reject(mid, by="sup", at=self.now))

    @rule(index=st.integers(0, 8))
    def lift(self, index: int) -> None:
        if index < len(self.case.measures):
            mid = self.case.measures[index].id
            self._apply(
                lambda: self.case.lift(mid, reason=LiftReason.RELEASED, by="ana", at=self.now)
            )

    @rule()
    def reverify(self) -> None:
        self._apply(lambda: self.case.pass_reverification(by="shop", at=self.now))

    @rule()
    def appeal(self) -> None:
        self._apply(
            lambda: self.case.lodge_appeal(
                self._new_id(),
                grounds="mine",
                channel="web",
                at=self.now,
                review_within=POLICY.appeal_review_within,
            )
        )

    @rule(upheld=st.booleans())
    def decide_appeal(self, upheld: bool) -> None:
        self._apply(lambda: self.case.decide_appeal(upheld=upheld, by="sup", at=self.now))

    @rule()
    def confirm(self) -> None:
        self._apply(lambda: self.case.confirm(by="ana", at=self.now))

    @rule()
    def clear(self) -> None:
        self._apply(lambda: self.case.clear(by="ana", at=self.now))

    @rule(hours=st.sampled_from([1, 6, 23, 25, 24 * 31, 24 * 91, 24 * 200]), tick=st.booleans())
    def advance(self, hours: int, tick: bool) -> None:
        self.now += dt.timedelta(hours=hours)
        if tick:
            self._apply(
                lambda: self.case.tick(self.now, escalation=POLICY.escalation(self._new_id))
            )

    @invariant()
    def sane(self) -> None:
        self.case.check_invariants(self.now)
        for m in self.case.measures:
            expires = m.expires_at
            if expires is not None and self.now >= expires:
                assert m.severity_at(self.now) is Severity.NONE, "a measure outlived its term"
        if self.cleared_at is not None:
            assert self.case.in_force(self.now) == [], "a measure outlived a won appeal"
            assert self.book.restriction_for(CARD, self.now) is None
        # The read model agrees with the case.
        restriction = self.book.restriction_for(CARD, self.now)
        severity = self.case.severity_at(self.now)
        if severity >= Severity.LIMITED:
            assert restriction is not None and restriction.severity == severity
        else:
            assert restriction is None


CaseMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_case_state_machine = CaseMachine.TestCase
