"""Disposal with due process: cases, graded measures, appeals, notices, credit list, cascade.

See ``docs/disposal.md`` for the state machine and the cascade protocol. Everything here is pure:
time comes in as arguments, storage and the network behind the ports in ``ports``.
"""

from __future__ import annotations

from telewarden.core.disposal.audit_chain import GENESIS, ChainEntry, ChainReport, verify_chain
from telewarden.core.disposal.book import MeasureBook, Restriction
from telewarden.core.disposal.cascade import (
    CascadeMessage,
    LinkedAccount,
    MessageKind,
    OutboxState,
    Reconciliation,
)
from telewarden.core.disposal.credit import CreditListing, SaleCheck, check_sale, id_key
from telewarden.core.disposal.model import (
    Appeal,
    AppealState,
    Approval,
    Case,
    CaseState,
    DisposalEvent,
    FlagRecord,
    LiftReason,
    Measure,
    MeasureKind,
    MeasureState,
    Severity,
)
from telewarden.core.disposal.notices import Notice, render_lift_notice, render_measure_notice
from telewarden.core.disposal.policy import DisposalPolicy, SourceRule

__all__ = [
    "GENESIS",
    "Appeal",
    "AppealState",
    "Approval",
    "Case",
    "CaseState",
    "CascadeMessage",
    "ChainEntry",
    "ChainReport",
    "CreditListing",
    "DisposalEvent",
    "DisposalPolicy",
    "FlagRecord",
    "LiftReason",
    "LinkedAccount",
    "Measure",
    "MeasureBook",
    "MeasureKind",
    "MeasureState",
    "MessageKind",
    "Notice",
    "OutboxState",
    "Reconciliation",
    "Restriction",
    "SaleCheck",
    "Severity",
    "SourceRule",
    "check_sale",
    "id_key",
    "render_lift_notice",
    "render_measure_notice",
    "verify_chain",
]
