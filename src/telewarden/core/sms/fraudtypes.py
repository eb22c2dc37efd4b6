"""The fraud-type taxonomy as typed objects: look-ups by code, official code and data-set label.

What belongs here: the :class:`FraudType` record and the functions that read the tables in
:mod:`telewarden.core.sms.fraud_types_data`. Ranking a text against the taxonomy lives in
:mod:`telewarden.core.sms.fraud_typer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telewarden.core.errors import NotFoundError
from telewarden.core.sms.fraud_types_data import DATASET_LABELS, FRAUD_TYPES, OFFICIAL_CODES

__all__ = ["TAXONOMY", "FraudType", "by_code", "code_for_dataset_label", "code_for_official"]


@dataclass(frozen=True, slots=True)
class FraudType:
    """One fraud type of ``domain.md`` section (b).

    Parameters
    ----------
    code : str
        Project code (``HI-05``); A = MPS high-incidence, B = newer variants, C = classic list,
        D = project extensions.
    name_en, name_zh : str
        English and Chinese names.
    definition : str
        Short definition.
    channels : tuple[str, ...]
        Typical channels (``sms``, ``call``, ``im`` ...).
    lexicon : tuple[tuple[re.Pattern[str], float], ...]
        Hand-written cue patterns with weights, used by the zero-shot typer.
    """

    code: str
    name_en: str
    name_zh: str
    definition: str
    channels: tuple[str, ...]
    lexicon: tuple[tuple[re.Pattern[str], float], ...]

    @property
    def group(self) -> str:
        """The section letter: ``A`` high-incidence, ``B`` newer, ``C`` classic, ``D`` extension."""
        return {"HI": "A", "NV": "B", "XT": "D"}.get(self.code.split("-")[0], "C")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form without the compiled lexicon."""
        return {
            "code": self.code,
            "name_en": self.name_en,
            "name_zh": self.name_zh,
            "definition": self.definition,
            "channels": list(self.channels),
            "group": self.group,
        }


TAXONOMY: dict[str, FraudType] = {
    code: FraudType(
        code,
        en,
        zh,
        definition,
        channels,
        tuple((re.compile(p, re.IGNORECASE), w) for p, w in lexicon),
    )
    for code, en, zh, definition, channels, lexicon in FRAUD_TYPES
}
"""Every fraud type by code, in the order of ``domain.md`` (b)."""


def by_code(code: str) -> FraudType:
    """Return the fraud type with this project code.

    Raises
    ------
    NotFoundError
        When the code is unknown.

    Examples
    --------
    >>> by_code("HI-05").name_zh
    '冒充公检法及政府机关类'
    """
    try:
        return TAXONOMY[code.strip().upper()]
    except KeyError:
        raise NotFoundError(f"unknown fraud type code {code!r}") from None


def code_for_official(official: str) -> str | None:
    """Project code for an official code, or None when the mapping table has no row."""
    return OFFICIAL_CODES.get(official.strip())


def code_for_dataset_label(dataset: str, label: str) -> str | None:
    """Project code for a label of an evaluation data set (None for normal/generic labels).

    Examples
    --------
    >>> code_for_dataset_label("fraud_texts_zh", "冒充客服服务")
    'HI-04'
    """
    try:
        return DATASET_LABELS[dataset][label]
    except KeyError:
        raise NotFoundError(f"no mapping for label {label!r} of data set {dataset!r}") from None
