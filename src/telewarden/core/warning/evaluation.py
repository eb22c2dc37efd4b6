"""Scoring warnings against the simulator's ground truth: who was warned before the money left.

What belongs here: :func:`evaluate_warnings`, a pure function of Polars frames. A warning is
attributed to a true campaign through the record that exposed the subscriber (``truth_events``)
or else through its subject (``truth_cards``); a victim with a loss counts as warned in time when
a warning of the same campaign reached them (``send_at``) strictly before ``loss_at``. Whether a
warned subscriber was ever in contact with the subject is checked against the raw records, not
against the engine's own index, so the check can fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = [
    "KindFigures",
    "WarningEvaluation",
    "evaluate_warnings",
    "pool_evaluations",
    "warnings_frame",
]

WARNING_COLUMNS: dict[str, pl.DataType] = {
    "warning_id": pl.String(),
    "msisdn": pl.String(),
    "subject": pl.String(),
    "subject_kind": pl.String(),
    "send_at": pl.Datetime("us", "UTC"),
    "record_kind": pl.String(),
    "record_id": pl.Int64(),
    "signal": pl.String(),
    "band": pl.String(),
}


def warnings_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Warnings (``WarningNotice.as_dict`` rows or the like) as a frame of ``WARNING_COLUMNS``."""
    data = {name: [row.get(name) for row in rows] for name in WARNING_COLUMNS}
    return pl.DataFrame(data, schema=WARNING_COLUMNS)


@dataclass(frozen=True, slots=True)
class KindFigures:
    """The figures of one campaign kind."""

    kind: str
    victims_with_loss: int
    warned_before_loss: int
    median_lead_minutes: float | None
    p10_lead_minutes: float | None
    warnings_sent: int
    leads_us: tuple[float, ...] = field(default=(), repr=False)
    """Lead time of each victim warned in time (for pooling seeds)."""

    @property
    def share(self) -> float:
        """Share of the victims with a loss warned before it."""
        return self.warned_before_loss / self.victims_with_loss if self.victims_with_loss else 0.0


@dataclass(frozen=True, slots=True)
class WarningEvaluation:
    """Every figure of the warning evaluation (see ``telewarden eval warnings``)."""

    victims_with_loss: int
    warned_before_loss: int
    warned_after_loss: int
    median_lead_minutes: float | None
    p10_lead_minutes: float | None
    warnings_sent: int
    victims_exposed: int
    victims_warned: int
    warned_never_exposed: int
    warned_not_fraud: int
    """Warnings about a subject that is not a fraud number of any campaign (a false flag)."""
    duplicates_per_campaign: int
    by_kind: tuple[KindFigures, ...]
    loss_rate_by_signal: dict[str, dict[str, float]] = field(default_factory=dict)
    leads_us: tuple[float, ...] = field(default=(), repr=False)

    @property
    def share_warned_before_loss(self) -> float:
        """Share of victims with a loss warned before it."""
        return self.warned_before_loss / self.victims_with_loss if self.victims_with_loss else 0.0

    @property
    def warnings_per_victim_in_time(self) -> float | None:
        """Warnings sent per victim warned before the loss."""
        return self.warnings_sent / self.warned_before_loss if self.warned_before_loss else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``telewarden eval warnings --json``)."""
        per_victim = self.warnings_per_victim_in_time
        return {
            "victims_with_loss": self.victims_with_loss,
            "warned_before_loss": self.warned_before_loss,
            "share_warned_before_loss": round(self.share_warned_before_loss, 4),
            "warned_after_loss": self.warned_after_loss,
            "median_lead_minutes": self.median_lead_minutes,
            "p10_lead_minutes": self.p10_lead_minutes,
            "warnings_sent": self.warnings_sent,
            "warnings_per_victim_warned_in_time": (
                round(per_victim, 2) if per_victim is not None else None
            ),
            "victims_exposed": self.victims_exposed,
            "victims_warned": self.victims_warned,
            "warned_never_exposed": self.warned_never_exposed,
            "warned_not_fraud": self.warned_not_fraud,
            "duplicates_per_campaign": self.duplicates_per_campaign,
            "by_kind": {
                k.kind: {
                    "victims_with_loss": k.victims_with_loss,
                    "warned_before_loss": k.warned_before_loss,
                    "share": round(k.share, 4),
                    "median_lead_minutes": k.median_lead_minutes,
                    "p10_lead_minutes": k.p10_lead_minutes,
                    "warnings_sent": k.warnings_sent,
                }
                for k in self.by_kind
            },
            "loss_rate_by_signal": self.loss_rate_by_signal,
        }


def _minutes(value: object) -> float | None:
    """Microseconds (a Polars median or quantile) as minutes to one decimal."""
    return None if not isinstance(value, int | float) else round(float(value) / 60e6, 1)


def _attribute(
    warnings: pl.DataFrame, truth_events: pl.DataFrame, truth_cards: pl.DataFrame
) -> pl.DataFrame:
    """Add ``campaign_id`` and ``campaign_kind`` (``none`` for a false flag) to each warning."""
    by_record = truth_events.select(
        "record_kind", "record_id", "campaign_id", "campaign_kind"
    ).unique(["record_kind", "record_id"])
    by_subject = truth_cards.select(
        pl.col("msisdn").alias("subject"),
        pl.col("campaign_id").alias("card_campaign_id"),
        pl.col("campaign_kind").alias("card_campaign_kind"),
    ).unique("subject")
    joined = warnings.join(by_record, on=["record_kind", "record_id"], how="left").join(
        by_subject, on="subject", how="left"
    )
    return joined.with_columns(
        pl.coalesce("campaign_id", "card_campaign_id", pl.lit("none")).alias("campaign_id"),
        pl.coalesce("campaign_kind", "card_campaign_kind", pl.lit("none")).alias("campaign_kind"),
    ).drop("card_campaign_id", "card_campaign_kind")


def _contact_pairs(calls: pl.DataFrame, sms: pl.DataFrame, warnings: pl.DataFrame) -> pl.DataFrame:
    """``msisdn, subject, at``: every record putting a warned subscriber in touch with a subject."""
    warned = warnings.select("msisdn").unique()
    frames = [
        calls.select(
            pl.col("callee").alias("msisdn"), pl.col("caller").alias("subject"), "start_at"
        ),
        calls.select(
            pl.col("caller").alias("msisdn"), pl.col("callee").alias("subject"), "start_at"
        ),
        sms.select(
            pl.col("recipient").alias("msisdn"),
            pl.col("sender").alias("subject"),
            pl.col("sent_at").alias("start_at"),
        ),
    ]
    pairs = [f.join(warned, on="msisdn", how="semi") for f in frames]
    tokens = warnings.filter(pl.col("subject_kind").is_in(["domain", "wallet"]))["subject"]
    texts = sms.join(warned, left_on="recipient", right_on="msisdn", how="semi")
    for token in tokens.unique().to_list():
        pairs.append(
            texts.filter(
                pl.col("text").str.to_lowercase().str.contains(token.lower(), literal=True)
            ).select(
                pl.col("recipient").alias("msisdn"),
                pl.lit(token).alias("subject"),
                pl.col("sent_at").alias("start_at"),
            )
        )
    return pl.concat(pairs).rename({"start_at": "at"})


def evaluate_warnings(
    warnings: pl.DataFrame,
    *,
    calls: pl.DataFrame,
    sms: pl.DataFrame,
    truth_victims: pl.DataFrame,
    truth_cards: pl.DataFrame,
    truth_events: pl.DataFrame,
    queue: pl.DataFrame | None = None,
) -> WarningEvaluation:
    """Score ``warnings`` (:data:`WARNING_COLUMNS`) against the simulator's truth tables.

    ``queue`` (``msisdn, subject, signal`` per assessment), when given, yields the share of
    assessed pairs per signal whose subscriber went on to lose money to that campaign.
    """
    attributed = _attribute(warnings, truth_events, truth_cards)
    victims = truth_victims.select("msisdn", "campaign_id", "campaign_kind", "loss_at")
    losses = victims.filter(pl.col("loss_at").is_not_null())
    first_warning = attributed.group_by("msisdn", "campaign_id").agg(
        pl.col("send_at").min().alias("warned_at")
    )
    scored = losses.join(first_warning, on=["msisdn", "campaign_id"], how="left").with_columns(
        (pl.col("warned_at") < pl.col("loss_at")).fill_null(False).alias("in_time"),
        (pl.col("loss_at") - pl.col("warned_at")).dt.total_microseconds().alias("lead_us"),
    )
    in_time = scored.filter(pl.col("in_time"))
    lead = in_time["lead_us"].cast(pl.Float64)
    pairs = _contact_pairs(calls, sms, warnings)
    exposed_ok = (
        warnings.select("warning_id", "msisdn", "subject", "send_at")
        .join(pairs, on=["msisdn", "subject"], how="inner")
        .filter(pl.col("at") <= pl.col("send_at"))
        .select("warning_id")
        .unique()
    )
    duplicates = (
        attributed.filter(pl.col("campaign_id") != "none")
        .group_by("msisdn", "campaign_id")
        .len()
        .filter(pl.col("len") > 1)
        .height
    )
    kinds = sorted(
        set(losses["campaign_kind"].to_list()) | set(attributed["campaign_kind"].to_list())
    )
    by_kind = []
    for kind in kinds:
        k_scored = scored.filter(pl.col("campaign_kind") == kind)
        k_lead = k_scored.filter(pl.col("in_time"))["lead_us"].cast(pl.Float64)
        by_kind.append(
            KindFigures(
                kind=kind,
                victims_with_loss=k_scored.height,
                warned_before_loss=int(k_scored["in_time"].sum()),
                median_lead_minutes=_minutes(k_lead.median()) if k_lead.len() else None,
                p10_lead_minutes=_minutes(k_lead.quantile(0.1, "lower")) if k_lead.len() else None,
                warnings_sent=attributed.filter(pl.col("campaign_kind") == kind).height,
                leads_us=tuple(k_lead.to_list()),
            )
        )
    warned_victims = victims.join(
        attributed.select("msisdn", "campaign_id").unique(),
        on=["msisdn", "campaign_id"],
        how="semi",
    )
    return WarningEvaluation(
        victims_with_loss=scored.height,
        warned_before_loss=in_time.height,
        warned_after_loss=int(
            scored.filter(~pl.col("in_time") & pl.col("warned_at").is_not_null()).height
        ),
        median_lead_minutes=_minutes(lead.median()) if lead.len() else None,
        p10_lead_minutes=_minutes(lead.quantile(0.1, "lower")) if lead.len() else None,
        warnings_sent=warnings.height,
        victims_exposed=victims.select("msisdn", "campaign_id").unique().height,
        victims_warned=warned_victims.select("msisdn", "campaign_id").unique().height,
        warned_never_exposed=warnings.height - exposed_ok.height,
        warned_not_fraud=attributed.filter(pl.col("campaign_kind") == "none").height,
        duplicates_per_campaign=duplicates,
        by_kind=tuple(by_kind),
        loss_rate_by_signal=_loss_rate_by_signal(queue, truth_cards, losses)
        if queue is not None
        else {},
        leads_us=tuple(lead.to_list()),
    )


def _loss_rate_by_signal(
    queue: pl.DataFrame, truth_cards: pl.DataFrame, losses: pl.DataFrame
) -> dict[str, dict[str, float]]:
    """Per signal of the first assessment: (subscriber, fraud number) pairs, share that lost money."""
    if queue.height == 0:
        return {}
    first = queue.group_by("msisdn", "subject", maintain_order=True).agg(pl.col("signal").first())
    cards = truth_cards.select(pl.col("msisdn").alias("subject"), "campaign_id").unique("subject")
    joined = first.join(cards, on="subject", how="inner").join(
        losses.select("msisdn", "campaign_id").unique().with_columns(pl.lit(True).alias("lost")),
        on=["msisdn", "campaign_id"],
        how="left",
    )
    out: dict[str, dict[str, float]] = {}
    for signal, pairs, lost in (
        joined.group_by("signal")
        .agg(pl.len(), pl.col("lost").fill_null(False).sum())
        .sort("signal")
        .iter_rows()
    ):
        out[str(signal)] = {"pairs": int(pairs), "loss_rate": round(int(lost) / int(pairs), 4)}
    return out


def _lead_stats(leads: list[float]) -> tuple[float | None, float | None]:
    if not leads:
        return None, None
    series = pl.Series(leads, dtype=pl.Float64)
    return _minutes(series.median()), _minutes(series.quantile(0.1, "lower"))


def pool_evaluations(evaluations: list[WarningEvaluation]) -> WarningEvaluation:
    """One evaluation of several seeds: counts summed, lead times pooled before the quantiles."""
    leads = [x for e in evaluations for x in e.leads_us]
    median, p10 = _lead_stats(leads)
    kinds: dict[str, list[KindFigures]] = {}
    for e in evaluations:
        for k in e.by_kind:
            kinds.setdefault(k.kind, []).append(k)
    by_kind = []
    for kind in sorted(kinds):
        parts = kinds[kind]
        k_leads = [x for k in parts for x in k.leads_us]
        k_median, k_p10 = _lead_stats(k_leads)
        by_kind.append(
            KindFigures(
                kind=kind,
                victims_with_loss=sum(k.victims_with_loss for k in parts),
                warned_before_loss=sum(k.warned_before_loss for k in parts),
                median_lead_minutes=k_median,
                p10_lead_minutes=k_p10,
                warnings_sent=sum(k.warnings_sent for k in parts),
                leads_us=tuple(k_leads),
            )
        )
    signals: dict[str, list[float]] = {}
    for e in evaluations:
        for signal, figures in e.loss_rate_by_signal.items():
            pair = signals.setdefault(signal, [0.0, 0.0])
            pair[0] += figures["pairs"]
            pair[1] += figures["pairs"] * figures["loss_rate"]
    return WarningEvaluation(
        victims_with_loss=sum(e.victims_with_loss for e in evaluations),
        warned_before_loss=sum(e.warned_before_loss for e in evaluations),
        warned_after_loss=sum(e.warned_after_loss for e in evaluations),
        median_lead_minutes=median,
        p10_lead_minutes=p10,
        warnings_sent=sum(e.warnings_sent for e in evaluations),
        victims_exposed=sum(e.victims_exposed for e in evaluations),
        victims_warned=sum(e.victims_warned for e in evaluations),
        warned_never_exposed=sum(e.warned_never_exposed for e in evaluations),
        warned_not_fraud=sum(e.warned_not_fraud for e in evaluations),
        duplicates_per_campaign=sum(e.duplicates_per_campaign for e in evaluations),
        by_kind=tuple(by_kind),
        loss_rate_by_signal={
            s: {"pairs": int(p), "loss_rate": round(lost / p, 4) if p else 0.0}
            for s, (p, lost) in sorted(signals.items())
        },
        leads_us=tuple(leads),
    )
