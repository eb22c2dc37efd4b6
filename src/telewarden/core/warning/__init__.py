"""Early warning: find the subscribers a flagged number, sender, link or wallet reached, and warn them.

``exposure`` (contacts and the look-back index), ``risk`` (victim risk, fraud type),
``templates`` (warning SMS texts), ``policy`` (one per campaign, quiet hours, rate limits),
``engine`` (the one logic of the batch and live paths), ``ports`` (sinks, store, outcomes) and
``evaluation`` (warned before the loss, against the simulator's ground truth).
"""

from telewarden.core.warning.engine import QueueEntry, WarningEngine, WarningNotice
from telewarden.core.warning.exposure import Contact, ContactKind, ContactSummary, ExposureIndex
from telewarden.core.warning.policy import Channel, WarningGate, WarningPolicy
from telewarden.core.warning.ports import Outcome, OutcomeRecord, WarningSink, WarningStore
from telewarden.core.warning.risk import FraudType, Risk, RiskBand, RiskModel

__all__ = [
    "Channel",
    "Contact",
    "ContactKind",
    "ContactSummary",
    "ExposureIndex",
    "FraudType",
    "Outcome",
    "OutcomeRecord",
    "QueueEntry",
    "Risk",
    "RiskBand",
    "RiskModel",
    "WarningEngine",
    "WarningGate",
    "WarningNotice",
    "WarningPolicy",
    "WarningSink",
    "WarningStore",
]
