"""What an entry point hands to the use cases: ports, a clock and the process-level gates.

Entry points build an :class:`AppContext` from their settings (``telewarden.cli.context``,
later the API and the live runner); the services read only this object, never the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telewarden.adapters.storage.protocol import ScreeningStore
from telewarden.core.ports import Clock
from telewarden.core.screening import ContentInspector, PolicySettings


@dataclass(frozen=True, slots=True)
class Gates:
    """Process-level overrides of the stored policy (environment or config file).

    ``content_inspection`` can only narrow the legal gate for SMS bodies, which is the stored
    policy's (closed until a supervisor opens it with a recorded legal basis): ``False``
    (``TELEWARDEN_CONTENT_INSPECTION=false``) closes it whatever the stored policy says;
    ``None`` or ``True`` leave the stored gate as it is: a deployment cannot open a gate a
    supervisor closed.
    ``high_risk_countries`` replaces the stored list.
    """

    content_inspection: bool | None = None
    high_risk_countries: tuple[str, ...] | None = None


@dataclass(slots=True)
class AppContext:
    """The store (all five store ports), the clock and the gates of one process."""

    store: ScreeningStore
    clock: Clock
    gates: Gates = field(default_factory=Gates)
    inspector_factory: Callable[[], ContentInspector | None] | None = None
    """Builds the SMS content inspector on first need; None uses the shipped model."""
    cases: Any | None = None
    """The disposal case store (``live_case_for``, ``measures_in_force``): when given, screens
    honour the measures on the carrier's cards (the ``card_measure`` rule)."""
    hash_key: bytes | None = None
    """The carrier's key for ID documents (credit listings); None: credit use cases refused."""
    models: Any | None = None
    """The model registry (``core.registry.ModelRegistry``): when it names a serving SMS
    version, ``sms classify`` without ``--model`` loads that version (checksum-checked) and
    records its daily verdict counts and score histogram for drift monitoring."""

    def effective_policy(self) -> PolicySettings:
        """The stored policy with the gates applied (see ``services.screening.gated_policy``)."""
        from telewarden.services.screening import gated_policy

        return gated_policy(self.store.get_policy(), self.gates)
