"""Verdicts on SMS bodies: model score plus indicators plus fraud-type evidence.

What belongs here: :class:`SmsClassifier`, which turns a fitted :class:`SmsModel` score into
``ok``/``spam``/``scam`` with the documented scam rule (:class:`ScamRule`), attaches
indicators and ranked fraud types, and explains itself; and :class:`SmsContentInspector`, the
implementation of the screening core's ``ContentInspector`` protocol.

The training sets label spam against ham only (zh_sms spam is mostly marketing, uci_sms spam
mixes marketing and prize scams), so the model alone cannot separate ``scam`` from ``spam``.
The rule: a message the model scores at or above its threshold is ``scam`` when its scam
evidence (requests, threats, urgency, lures, impersonated brands, risky indicators; see
:class:`telewarden.core.sms.fraud_typer.FraudTyper`) reaches ``ScamRule.with_score``, else
``spam``; a message scored below the threshold is still ``scam`` when it names a brand or
public body or carries a risky indicator (the *anchor*) and its evidence reaches
``ScamRule.alone``, else ``ok``. Finally a message that is not ``ok`` but has the shape of a
clean transactional notice (:func:`telewarden.core.sms.notices.notice_kind`: a one-time code
with its "do not share" line, an account movement, a parcel, a booking, an anti-fraud
advisory, with no link off a brand's own domain, no risky indicator, no marketing and no call
to act) is ``ok``: the training sets taught the model that every such notice is spam.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from telewarden.core.sms.classifier import SmsModel
from telewarden.core.sms.fraud_typer import FraudTyper, ScamEvidence, TypeScore
from telewarden.core.sms.indicators import Indicator, IndicatorExtractor
from telewarden.core.sms.normalise import fold_for_model, normalise
from telewarden.core.sms.notices import notice_kind

if TYPE_CHECKING:
    from telewarden.core.screening import ContentFinding

__all__ = ["ContentVerdict", "ScamRule", "SmsClassifier", "SmsContentInspector", "SmsResult"]


class ContentVerdict(StrEnum):
    """What the content of one SMS is."""

    OK = "ok"
    SPAM = "spam"
    SCAM = "scam"
    NOT_INSPECTED = "not_inspected"
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str) -> ContentVerdict:
        """Parse a verdict name, mapping anything unknown to ``UNKNOWN``."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class ScamRule:
    """Thresholds of the scam rule (see the module docstring and the model card).

    Parameters
    ----------
    with_score : float
        Evidence needed to call a spam-scored message ``scam``.
    alone : float
        Evidence needed to call a message ``scam`` whatever the model score.
    """

    with_score: float = 3.0
    alone: float = 4.5


@dataclass(frozen=True, slots=True)
class SmsResult:
    """The verdict on one message and why.

    Parameters
    ----------
    verdict : ContentVerdict
        ``ok``, ``spam``, ``scam`` (or ``not_inspected`` behind the legal gate).
    score : float
        Model probability that the message is not ``ok``.
    threshold : float
        The model threshold the score was compared with.
    indicators : tuple[Indicator, ...]
        Extracted indicators.
    evidence : ScamEvidence
        Scam evidence cues and their summed weight.
    fraud_types : tuple[TypeScore, ...]
        Ranked fraud types (for ``scam`` only).
    top_features : tuple[tuple[str, float], ...]
        N-grams with their log-odds contributions (filled by ``explain`` only).
    """

    verdict: ContentVerdict
    score: float
    threshold: float
    indicators: tuple[Indicator, ...] = ()
    evidence: ScamEvidence = field(default_factory=lambda: ScamEvidence(0.0, ()))
    fraud_types: tuple[TypeScore, ...] = ()
    top_features: tuple[tuple[str, float], ...] = ()

    @property
    def detail(self) -> str:
        """One line naming the score, the strongest cues and indicators."""
        parts = [f"{self.verdict} (score {self.score:.3f}, threshold {self.threshold:.2f})"]
        if self.evidence.cues:
            parts.append("cues " + ", ".join(self.evidence.cues[:5]))
        if self.fraud_types:
            parts.append("types " + ", ".join(t.code for t in self.fraud_types))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "verdict": str(self.verdict),
            "score": round(self.score, 6),
            "threshold": self.threshold,
            "fraud_types": [
                {"code": t.code, "name": t.name_en, "score": t.score} for t in self.fraud_types
            ],
            "indicators": [i.to_dict() for i in self.indicators],
            "evidence": {"score": self.evidence.score, "cues": list(self.evidence.cues)},
            "top_features": [[n, c] for n, c in self.top_features],
        }


# SmsResult is frozen, so its generated __init__ sets each field through object.__setattr__,
# about a tenth of the per-message Python time of classify_many. The batch path sets the
# slots through their descriptors instead: the same object, built for about 60 % of the
# cost. Unpacking exactly seven setters fails at import if a field is added or removed.
(
    _set_verdict,
    _set_score,
    _set_threshold,
    _set_indicators,
    _set_evidence,
    _set_fraud_types,
    _set_top_features,
) = (getattr(SmsResult, f.name).__set__ for f in fields(SmsResult))


def _new_result(
    verdict: ContentVerdict,
    score: float,
    threshold: float,
    indicators: tuple[Indicator, ...],
    evidence: ScamEvidence,
    fraud_types: tuple[TypeScore, ...],
) -> SmsResult:
    """``SmsResult(verdict, score, threshold, indicators, evidence, fraud_types)``, faster."""
    result: SmsResult = object.__new__(SmsResult)
    _set_verdict(result, verdict)
    _set_score(result, score)
    _set_threshold(result, threshold)
    _set_indicators(result, indicators)
    _set_evidence(result, evidence)
    _set_fraud_types(result, fraud_types)
    _set_top_features(result, ())
    return result


class SmsClassifier:
    """Classify SMS bodies as ``ok``, ``spam`` or ``scam`` with indicators and fraud types.

    Parameters
    ----------
    model : SmsModel
        A fitted model (the shipped one comes from ``telewarden.adapters.sms_model``).
    extractor : IndicatorExtractor or None
        Indicator extraction (default settings when None).
    typer : FraudTyper or None
        Lexicon typer and scam evidence (default when None).
    rule : ScamRule
        Thresholds of the scam rule.
    top_types : int
        How many fraud types to attach to a scam verdict.
    """

    def __init__(
        self,
        model: SmsModel,
        *,
        extractor: IndicatorExtractor | None = None,
        typer: FraudTyper | None = None,
        rule: ScamRule | None = None,
        top_types: int = 3,
    ) -> None:
        self.model = model
        self.extractor = extractor or IndicatorExtractor()
        self.typer = typer or FraudTyper()
        self.rule = rule or ScamRule()
        self.top_types = top_types

    def classify(self, text: str) -> SmsResult:
        """Classify one message."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[SmsResult]:
        """Classify a batch (scores are computed in one matrix product).

        A campaign sends one body to many recipients, so each distinct text of the batch is
        classified once and its (immutable) result shared by its repeats; every step is a
        function of the text alone, so the results are those of classifying each message.
        """
        distinct = list(dict.fromkeys(texts))
        if len(distinct) == len(texts):
            return self._classify_distinct(texts)
        results = dict(zip(distinct, self._classify_distinct(distinct), strict=True))
        return [results[t] for t in texts]

    def _classify_distinct(self, texts: Sequence[str]) -> list[SmsResult]:
        norm = [normalise(t) for t in texts]
        ready = [fold_for_model(n) for n in norm]
        # Python floats once for the batch (the same values float() gives per element; a
        # NumPy scalar in the loop costs a boxed comparison and conversion per message).
        scores = np.asarray(self.model.score_many(ready, prepared=True), dtype=np.float64)
        thresholds = np.asarray(self.model.thresholds_for(ready), dtype=np.float64)
        found = self.extractor.extract_many(norm, normalised=True)
        evidence_of = self.typer.evidence
        with_score, alone = self.rule.with_score, self.rule.alone
        official = self.extractor.official_domains
        out: list[SmsResult] = []
        for text, indicators, p, thr in zip(
            norm, found, scores.tolist(), thresholds.tolist(), strict=True
        ):
            spam_scored = p >= thr
            evidence = evidence_of(text, indicators, require_anchor=not spam_scored)
            if (spam_scored and evidence.score >= with_score) or evidence.score >= alone:
                verdict = ContentVerdict.SCAM
            elif spam_scored:
                verdict = ContentVerdict.SPAM
            else:
                verdict = ContentVerdict.OK
            if verdict is not ContentVerdict.OK and notice_kind(text, indicators, official):
                # A clean transactional notice (code, account movement, parcel, booking,
                # advisory) with nothing that vetoes it: see telewarden.core.sms.notices.
                verdict = ContentVerdict.OK
            types = self.typer.rank(text, self.top_types) if verdict is ContentVerdict.SCAM else ()
            out.append(_new_result(verdict, p, thr, indicators, evidence, types))
        return out

    def explain(self, text: str, top_k: int = 8) -> SmsResult:
        """Classify one message and attach the n-grams that weighed most."""
        result = self.classify(text)
        feats = tuple(self.model.explain(text, top_k))
        return SmsResult(
            result.verdict,
            result.score,
            result.threshold,
            result.indicators,
            result.evidence,
            result.fraud_types or self.typer.rank(normalise(text), self.top_types),
            feats,
        )


class SmsContentInspector:
    """The screening core's ``ContentInspector``, backed by :class:`SmsClassifier`.

    Parameters
    ----------
    classifier : SmsClassifier
        The classifier to ask.
    """

    def __init__(self, classifier: SmsClassifier) -> None:
        self.classifier = classifier

    def inspect(self, text: str) -> ContentFinding:
        """Return the screening finding (verdict, score, detail, fraud type codes)."""
        return self.inspect_many([text])[0]

    def inspect_many(self, texts: Sequence[str]) -> list[ContentFinding]:
        """Findings for a batch; the model scores the whole batch in one matrix product."""
        # Imported here: the screening package loads the number geocoder, which the
        # classify path does not need.
        from telewarden.core.screening import ContentFinding

        return [
            ContentFinding(
                verdict=str(result.verdict),
                score=result.score,
                detail=result.detail,
                fraud_types=tuple(t.code for t in result.fraud_types),
            )
            for result in self.classifier.classify_many(texts)
        ]
