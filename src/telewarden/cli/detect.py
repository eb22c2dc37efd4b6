"""`telewarden detect`: signals, scores and rule-detector alerts over a folder of records.

The work is done in ``telewarden.services.detection``; this module parses and renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from telewarden.cli.progress import progress_bar
from telewarden.services.detection import MIN_HISTORY_DAYS

console = Console()


def detect(
    records: Annotated[Path, typer.Option("--records", help="Simulator/carrier records dir.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")],
    model: Annotated[Path | None, typer.Option(help="Model file; default: shipped.")] = None,
    min_history_days: Annotated[
        float,
        typer.Option(
            help="Fewest calendar days of calls and SMS on which the scorer's flags count; "
            "on fewer they are withheld (scores are still written)."
        ),
    ] = MIN_HISTORY_DAYS,
    scorer_acts: Annotated[
        bool,
        typer.Option(
            "--scorer-acts",
            help="Act on the flags of a model trained on your own outcomes whose card allows it "
            "(cross-validated precision >= 0.95), whatever the history.",
        ),
    ] = False,
    domain_check: Annotated[
        bool,
        typer.Option(
            help="Withhold the scorer's flags when the features do not look like the model's "
            "training data (per-feature PSI; `numbers domain`)."
        ),
    ] = True,
) -> None:
    """Run signals, features, the scorer and the rule detectors.

    Writes alerts.csv (detector flags with reasons), scores.csv (model scores) and signals.csv
    (the windowed signal set per subscriber, windows ending at the last call). The shipped
    scorer learnt from eight-month aggregates: on records spanning less than
    ``--min-history-days`` its flags are withheld (``flag_withheld``), because a day of an
    ordinary subscriber's traffic looks like the short life of a fraud card.
    """
    from telewarden.services.detection import detect_cards

    with progress_bar("detect", console) as progress:
        task = progress.add_task("reading records", total=None)

        def on_calls(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = detect_cards(
            records,
            output,
            model=model,
            min_history_days=min_history_days,
            scorer_acts=scorer_acts,
            domain_check=domain_check,
            on_stage=lambda text: progress.update(task, description=text),
            on_calls=on_calls,
        )
    table = Table("detector", "numbers flagged")
    for detector, numbers in report.flagged_by_detector:
        table.add_row(detector, str(numbers))
    console.print(table)
    if report.flags_withheld:
        console.print(
            f"scorer flags withheld: {report.withheld_because} (it would have flagged "
            f"{report.model_flags:,} of {report.subscribers_scored:,} subscribers; see "
            "docs/model-card-numbers.md)"
        )
    else:
        acting = " (acting: --scorer-acts)" if report.scorer_acts else ""
        console.print(
            f"scorer flagged {report.model_flags:,} of {report.subscribers_scored:,} subscribers "
            f"over {report.history_days} days of records{acting}"
        )
    console.print(f"detectors flagged {report.numbers_flagged:,} numbers -> {output}")
    console.print(
        f"{report.calls:,} calls in {report.seconds:.1f} s ({report.calls_per_s:,.0f} calls/s)"
    )
