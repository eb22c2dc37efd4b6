"""Deployment policy of the screener: cross-border defaults, region overrides, legal gates.

These are the operator's policy knobs (persisted by the store, edited by ``telewarden policy``),
not process settings: nothing here reads the environment.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from telewarden.core.numbers import DEFAULT_HIGH_RISK_COUNTRIES

__all__ = ["HOW_TO_OPEN_CONTENT", "PolicySettings", "RegionPolicy"]

HOW_TO_OPEN_CONTENT = (
    "open it only with a lawful basis and a legal review, recorded: "
    "`telewarden policy set content_inspection true --legal-basis "
    '"AFL Art. 25/32; legal review ref ..."`'
)
"""How the legal gate on SMS content is opened lawfully (said by every notice that it is closed)."""


class RegionPolicy(BaseModel):
    """Per-callee-region override of the cross-border defaults (None keeps the default)."""

    cross_border_block_calls: bool | None = None
    cross_border_block_sms: bool | None = None


class PolicySettings(BaseModel):
    """The screening policy of one deployment.

    Attributes
    ----------
    cross_border_block_calls, cross_border_block_sms : bool
        Block HK/Macao/Taiwan/foreign callers by default unless the callee opted in.
    region_overrides : dict of str to RegionPolicy
        Keyed by callee city or province as libphonenumber spells it in English ("Zhejiang",
        "Shenzhen", exact case) or by region code; a city key beats a province key. A Chinese
        key ("浙江", "深圳") matches when it occurs in the callee's Chinese location text.
    high_risk_countries : list of str
        ISO alpha-2 origins labelled high-risk.
    block_high_risk_unless_opted_in : bool
        Keep blocking high-risk origins even where the region override lifts the cross-border
        default; an explicit opt-in by the callee still lets them through (labelled).
    appeal_contact, optin_instruction : str
        What subscriber messages and SIP Reason texts tell people to do.
    content_inspection : bool
        Legal gate: whether SMS bodies may be inspected at all. Closed by default: nobody may
        inspect telecom content without a lawful basis and a legal review (AFL Arts. 25 and 32,
        Telecom Regulations Art. 65). Open only together with ``content_legal_basis``.
    content_legal_basis : str or None
        The lawful basis and legal review reference the gate was opened on; required while
        ``content_inspection`` is true (the audit record of the change keeps who and when).
    spam_verdict : str
        What a "spam" content finding does: ``allow_labelled`` or ``block``.

    Examples
    --------
    >>> s = PolicySettings(cross_border_block_sms=False)
    >>> PolicySettings.model_validate(s.model_dump()) == s
    True
    >>> "MM" in PolicySettings().high_risk_countries
    True
    """

    cross_border_block_calls: bool = True
    cross_border_block_sms: bool = True
    region_overrides: dict[str, RegionPolicy] = Field(default_factory=dict)
    high_risk_countries: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_HIGH_RISK_COUNTRIES)
    )
    block_high_risk_unless_opted_in: bool = True
    appeal_contact: str = "10086"
    optin_instruction: str = "text 1219 to 10086"
    content_inspection: bool = False
    content_legal_basis: str | None = None
    spam_verdict: Literal["allow_labelled", "block"] = "allow_labelled"

    @field_validator("high_risk_countries")
    @classmethod
    def _upper_regions(cls, value: list[str]) -> list[str]:
        return [code.strip().upper() for code in value if code.strip()]

    @field_validator("content_legal_basis")
    @classmethod
    def _basis_or_none(cls, value: str | None) -> str | None:
        return value.strip() if value is not None and value.strip() else None

    @model_validator(mode="after")
    def _gate_needs_a_basis(self) -> PolicySettings:
        if self.content_inspection and self.content_legal_basis is None:
            raise ValueError(
                "content_inspection=true needs content_legal_basis (the lawful basis and legal "
                f"review reference); {HOW_TO_OPEN_CONTENT}"
            )
        return self

    @classmethod
    def from_stored(cls, document: Any) -> PolicySettings:
        """A stored policy document; one opened before a legal basis was required loads closed.

        Examples
        --------
        >>> PolicySettings.from_stored({"content_inspection": True}).content_inspection
        False
        """
        if (
            isinstance(document, dict)
            and document.get("content_inspection")
            and not str(document.get("content_legal_basis") or "").strip()
        ):
            document = {**document, "content_inspection": False, "content_legal_basis": None}
        return cls.model_validate(document)

    # Bumped by every attribute assignment so a Screener can drop memoised results; in-place
    # edits of ``region_overrides`` or ``high_risk_countries`` need ``Screener.refresh()``.
    _revision: int = PrivateAttr(default=0)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            super().__setattr__("_revision", self._revision + 1)

    def __eq__(self, other: object) -> bool:
        # The revision counter is bookkeeping, not policy: equal dumps are equal policies.
        if not isinstance(other, PolicySettings):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def revision(self) -> int:
        """How many field assignments this object has seen."""
        return self._revision
