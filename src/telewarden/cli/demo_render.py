"""What `telewarden demo` prints: its tables and lines (split from ``cli/demo.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from telewarden.core.detectors.evaluation import DetectionResult
    from telewarden.services.adaptive_replay import AdversaryReport
    from telewarden.services.demo import ChannelReport, DemoReport
    from telewarden.services.loop_demo import LoopDemo

__all__ = [
    "adversaries_json",
    "render",
    "render_adversaries",
    "render_detection",
    "render_loop",
]


def adversaries_json(report: AdversaryReport) -> dict[str, object]:
    return {
        "totals": report.totals().to_dicts(),
        "campaigns": report.summary().to_dicts(),
        "loop": {s.name: s.loop for s in report.scenarios},
    }


def render_adversaries(console: Console, report: AdversaryReport) -> None:
    from telewarden.cli.eval_adversaries import render_totals

    render_totals(console, report, compact=True)


def render_loop(console: Console, loop: LoopDemo) -> None:
    table = Table(
        title="Fraud traffic with the live loop against screening alone", title_justify="left"
    )
    for column in (
        "campaign",
        "fraud events",
        "delivered (screening alone)",
        "delivered (loop)",
        "calls after 1st detection",
        "of which blocked",
        "victims with loss",
        "exposure prevented",
        "warned before loss",
        "median min to measure",
    ):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    for c in loop.report.campaigns:
        d = c.as_dict()
        table.add_row(
            c.kind,
            f"{c.fraud_events:,}",
            f"{c.delivered_screening_alone:,}",
            f"{c.delivered_with_loop:,}",
            f"{c.calls_after_first_detection:,}",
            f"{c.of_which_blocked:,}",
            f"{c.victims_with_loss:,}",
            f"{c.exposures_prevented:,}",
            f"{c.warned_before_loss:,}",
            "-" if d["median_minutes_to_measure"] is None else f"{d['median_minutes_to_measure']}",
        )
    console.print(table)
    totals = loop.report.totals()
    console.print(
        f"{loop.run.events:,} events through the loop in {loop.run.seconds:.1f} s "
        f"({totals['loop_events_per_second']:,} events/s): {loop.intake.cases_opened} cases, "
        f"{loop.intake.measures_in_force} measures in force, {loop.notices} notices, "
        f"{len(loop.run.warnings):,} warnings; legitimate events blocked "
        f"{totals['legitimate_blocked']:,} (subscribers {totals['legitimate_subscribers_blocked']})"
    )
    if loop.scorer is not None:
        s = loop.scorer
        console.print(
            f"number scorer: features of {s['subscribers_with_features']:,} subscribers kept "
            f"incrementally ({s['partial_rows_held']:,} partial rows), {s['scorings']} scorings, "
            f"{s['numbers_scored']:,} numbers scored, {s['flags']} flags acted on"
            + (f"; withheld: {s['withheld_because']}" if s["withheld_because"] else "")
        )


def _median(values: list[int] | list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def render_detection(console: Console, result: DetectionResult, seconds: float, calls: int) -> None:
    table = Table(title="Fraud cards found by the detectors", title_justify="left")
    for column in (
        "campaign",
        "cards",
        "detected",
        "recall %",
        "median attempts",
        "median minutes",
    ):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    for kind, figures in sorted(result.per_kind.items()):
        if figures.cards == 0:
            continue
        recall = 100.0 * figures.detected / figures.cards
        table.add_row(
            kind,
            f"{figures.cards:,}",
            f"{figures.detected:,}",
            f"{recall:.0f}",
            _median(figures.attempts),
            _median(figures.minutes),
        )
    console.print(table)
    precision = result.true_flagged / result.flagged if result.flagged else 0.0
    console.print(
        f"[bold]Numbers flagged:[/] {result.flagged:,} (precision {precision:.1%}); "
        f"[bold]legitimate bulk callers flagged:[/] {result.legit_bulk_flagged} of {result.legit_bulk}; "
        f"{calls:,} calls replayed in {seconds:.1f} s."
    )


def _table(title: str, channel: ChannelReport, fraud_kinds: tuple[str, ...]) -> Table:
    from telewarden.services.demo import LEGIT_DOMESTIC, LEGIT_INTERNATIONAL

    table = Table(title=title, title_justify="left")
    for column in (
        "traffic (ground truth)",
        "events",
        "blocked",
        "labelled",
        "allowed",
        "blocked %",
    ):
        table.add_column(column, justify="left" if column.startswith("traffic") else "right")
    names = [str(k) for k in fraud_kinds] + [LEGIT_INTERNATIONAL, LEGIT_DOMESTIC]
    for name in names:
        c = channel.category(name)
        if c.events == 0:
            continue
        share = 100.0 * c.blocked / c.events
        table.add_row(
            name,
            f"{c.events:,}",
            f"{c.blocked:,}",
            f"{c.labelled:,}",
            f"{c.allowed:,}",
            f"{share:.1f}",
        )
    return table


def render(console: Console, report: DemoReport) -> None:
    from telewarden.services.demo import (
        CALL_FRAUD_KINDS,
        LEGIT_DOMESTIC,
        LEGIT_INTERNATIONAL,
        SMS_FRAUD_KINDS,
    )

    calls, sms = report.calls, report.sms
    console.print(_table("Calls", calls, CALL_FRAUD_KINDS))
    console.print(_table("SMS", sms, SMS_FRAUD_KINDS))
    spoofed = calls.category("spoofed_cli")
    intl = calls.category(LEGIT_INTERNATIONAL)
    intl_sms = sms.category(LEGIT_INTERNATIONAL)
    domestic_fp = calls.category(LEGIT_DOMESTIC).blocked + sms.category(LEGIT_DOMESTIC).blocked
    cross_border_blocked = calls.reasons.get("cross_border_default_block", 0)
    console.print(
        f"[bold]Cross-border calls stopped by default:[/] {cross_border_blocked:,}   "
        f"[bold]spoofed calls stopped:[/] {spoofed.blocked:,} of {spoofed.events:,}   "
        f"[bold]opted-in cross-border calls labelled:[/] {intl.labelled:,} "
        f"(and {intl_sms.labelled:,} SMS; {report.opted_in_subscribers:,} subscribers opted in)"
    )
    domestic_labelled = (
        calls.category(LEGIT_DOMESTIC).labelled + sms.category(LEGIT_DOMESTIC).labelled
    )
    console.print(
        f"[bold]Legitimate domestic calls and SMS blocked (false positives):[/] {domestic_fp:,}; "
        f"labelled as suspect: {domestic_labelled:,}; "
        f"registered enterprise senders on the allow list: {report.registered_senders}"
    )
    from telewarden.services.screening import SIMULATED_TRAFFIC

    if report.content_inspection:
        console.print(f"content inspection on: {SIMULATED_TRAFFIC}")
    else:
        console.print(
            "SMS content inspection is off (legal gate or no model): SMS were screened on sender "
            "and metadata rules only; the demo opens the gate on its simulated traffic unless "
            "TELEWARDEN_CONTENT_INSPECTION=false closes it (remove that setting)."
        )
    screened = calls.events + sms.events
    decide_s = calls.decide_s + sms.decide_s
    console.print(
        f"{screened:,} events screened in {report.total_s:.1f} s end to end; "
        f"the policy itself ran at {screened / max(decide_s, 1e-9):,.0f} verdicts/s."
    )
