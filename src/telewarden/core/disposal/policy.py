"""The disposal policy: which measures a flag brings at once, and who approves the rest.

Defaults follow the law (``../shared/docs/domain.md`` table a): a card flagged as fraud-abnormal
is re-verified (AFL Art. 11, O4) within 24 hours (the 2021 MIIT+MPS notice, O4a); a card that
does not verify in time is suspended automatically (O4a); restrictions an analyst proposes need
no second person, a suspension needs a supervisor (a human reviews every decision that
significantly affects the subscriber, PIPL Art. 24, O24). Every measure carries its reason,
remedy channel and documents (AFL Art. 32, O18).

Examples
--------
>>> import datetime as dt
>>> policy = DisposalPolicy()
>>> policy.rule_for("sim_bank_imei").automatic
(<MeasureKind.REVERIFY: 'reverify'>,)
>>> policy.approval_for(MeasureKind.SUSPEND)
<Approval.SUPERVISOR: 'supervisor'>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from telewarden.core.disposal.model import (
    Approval,
    Case,
    Measure,
    MeasureKind,
    MeasureState,
)
from telewarden.core.errors import InvalidInputError

__all__ = ["DOCUMENTS", "DisposalPolicy", "SourceRule"]

DOCUMENTS: dict[MeasureKind, tuple[str, ...]] = {
    MeasureKind.WARN: (),
    MeasureKind.REVERIFY: ("id_document", "card_in_hand", "live_face_check"),
    MeasureKind.RESTRICT: ("id_document", "statement_of_use"),
    MeasureKind.SUSPEND: ("id_document", "statement_of_use", "fraud_risk_declaration"),
}
"""Documents the subscriber brings to lift each measure (codes; notices name them in words)."""


@dataclass(frozen=True, slots=True)
class SourceRule:
    """What a flag from one source brings without waiting for a person."""

    automatic: tuple[MeasureKind, ...] = ()
    block_while_pending: bool = False
    """Re-verification blocks outgoing calls and SMS until the subscriber verifies."""
    reason: str = "fraud_abnormal"
    """Reason code written on the measures (a key of ``notices.REASONS``)."""


def _default_rules() -> Mapping[str, SourceRule]:
    reverify_blocking = SourceRule((MeasureKind.REVERIFY,), block_while_pending=True)
    return MappingProxyType(
        {
            # SIM banks and bursts of new cards: a person rarely stands behind the card, so it is
            # held until one comes forward (O4a names cards that trip warning models).
            "sim_bank": reverify_blocking,
            "new_card_burst": reverify_blocking,
            "scorer": SourceRule((MeasureKind.REVERIFY,)),
            "police": SourceRule(
                (MeasureKind.REVERIFY, MeasureKind.RESTRICT),
                block_while_pending=True,
                reason="police_referral",
            ),
            "deny_list": SourceRule((MeasureKind.WARN,)),
            # The other cards on a disposed card's ID document (一证多卡, O4a): re-verified,
            # without blocking, since they may be a family's ordinary phones.
            "id_link": SourceRule((MeasureKind.REVERIFY,)),
            "analyst": SourceRule(()),
        }
    )


def _default_terms() -> Mapping[MeasureKind, dt.timedelta | None]:
    return MappingProxyType(
        {
            MeasureKind.WARN: dt.timedelta(days=30),
            MeasureKind.REVERIFY: None,
            MeasureKind.RESTRICT: dt.timedelta(days=90),
            MeasureKind.SUSPEND: dt.timedelta(days=180),
        }
    )


def _default_approvals() -> Mapping[MeasureKind, Approval]:
    return MappingProxyType(
        {
            MeasureKind.WARN: Approval.ANALYST,
            MeasureKind.REVERIFY: Approval.ANALYST,
            MeasureKind.RESTRICT: Approval.ANALYST,
            MeasureKind.SUSPEND: Approval.SUPERVISOR,
        }
    )


@dataclass(frozen=True, slots=True)
class DisposalPolicy:
    """Rules by flag source, terms, deadlines and approvals.

    Parameters
    ----------
    rules
        By flag source; a source matches the longest rule name it starts with
        (``sim_bank`` covers ``sim_bank_imei``). Unmatched sources use ``default_rule``.
    approvals
        Who approves a measure a person proposes (automatic measures need no one).
    terms
        How long each measure lasts once in force; None means until lifted.
    reverify_within
        Re-verification deadline (24 h in the 2021 notice).
    escalate_unverified_to
        What a missed re-verification deadline becomes (suspension, O4a).
    appeal_review_within
        When an appeal's review is due; an overdue review is reported to supervisors.
    remedy_channel
        Where the subscriber appeals or verifies: the carrier's hotline, halls and web page.
    """

    rules: Mapping[str, SourceRule] = field(default_factory=_default_rules)
    default_rule: SourceRule = SourceRule((MeasureKind.WARN,))
    approvals: Mapping[MeasureKind, Approval] = field(default_factory=_default_approvals)
    terms: Mapping[MeasureKind, dt.timedelta | None] = field(default_factory=_default_terms)
    reverify_within: dt.timedelta = dt.timedelta(hours=24)
    escalate_unverified_to: MeasureKind = MeasureKind.SUSPEND
    appeal_review_within: dt.timedelta = dt.timedelta(hours=48)
    remedy_channel: str = "10000 hotline, any service hall, or https://carrier.example/appeal"

    def rule_for(self, source: str) -> SourceRule:
        """The rule of the longest rule name ``source`` starts with."""
        best = ""
        for name in self.rules:
            if source.startswith(name) and len(name) > len(best):
                best = name
        return self.rules[best] if best else self.default_rule

    def approval_for(self, kind: MeasureKind) -> Approval:
        """Who approves ``kind`` when a person proposes it."""
        return self.approvals.get(kind, Approval.SUPERVISOR)

    def build(
        self,
        case: Case,
        kind: MeasureKind,
        *,
        measure_id: str,
        approval: Approval,
        by: str,
        at: dt.datetime,
        reason: str,
        block_while_pending: bool = False,
        escalated_from: str | None = None,
    ) -> Measure:
        """A new measure on ``case`` with the policy's documents, term and deadline."""
        deadline = at + self.reverify_within if kind is MeasureKind.REVERIFY else None
        return Measure(
            id=measure_id,
            case_id=case.id,
            msisdn=case.msisdn,
            kind=kind,
            state=MeasureState.PENDING_APPROVAL,
            approval=approval,
            reason=reason,
            remedy_channel=self.remedy_channel,
            documents=DOCUMENTS[kind],
            proposed_at=at,
            proposed_by=by,
            deadline=deadline,
            escalate_to=self.escalate_unverified_to if kind is MeasureKind.REVERIFY else None,
            term=self.terms.get(kind),
            blocks_while_pending=block_while_pending and kind is MeasureKind.REVERIFY,
            escalated_from=escalated_from,
        )

    def automatic_measures(
        self, case: Case, source: str, *, at: dt.datetime, new_id: Callable[[], str]
    ) -> list[Measure]:
        """Measures a flag from ``source`` brings at once, skipping kinds already live on the case."""
        rule = self.rule_for(source)
        live = {
            m.kind
            for m in case.measures
            if m.state is MeasureState.PENDING_APPROVAL or m.in_force(at)
        }
        return [
            self.build(
                case,
                kind,
                measure_id=new_id(),
                approval=Approval.AUTOMATIC,
                by=f"policy:{source}",
                at=at,
                reason=rule.reason,
                block_while_pending=rule.block_while_pending,
            )
            for kind in rule.automatic
            if kind not in live
        ]

    def proposed_measure(
        self,
        case: Case,
        kind: MeasureKind,
        *,
        measure_id: str,
        by: str,
        at: dt.datetime,
        reason: str = "fraud_abnormal",
    ) -> Measure:
        """A measure a person proposes; its approval level comes from the policy."""
        if case.closed:
            raise InvalidInputError(f"case {case.id} is cleared")
        return self.build(
            case,
            kind,
            measure_id=measure_id,
            approval=self.approval_for(kind),
            by=by,
            at=at,
            reason=reason,
            block_while_pending=self.rule_for("analyst").block_while_pending,
        )

    def escalation(
        self, new_id: Callable[[], str]
    ) -> Callable[[Case, Measure, dt.datetime], Measure]:
        """The builder ``Case.tick`` calls when a re-verification deadline passes unmet."""

        def escalate(case: Case, missed: Measure, at: dt.datetime) -> Measure:
            return self.build(
                case,
                self.escalate_unverified_to,
                measure_id=new_id(),
                approval=Approval.AUTOMATIC,
                by="timer",
                at=at,
                reason="unverified",
                escalated_from=missed.id,
            )

        return escalate
