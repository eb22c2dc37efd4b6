"""`telewarden eval adaptation`: the adaptation curve of the SMS model to a new campaign.

Only parsing and rendering; the measurement is ``telewarden.services.evaluation_adaptation``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.eval_data import data_option, output_option, require_data, write_json
from telewarden.core.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console

    from telewarden.services.evaluation_adaptation import AdaptationEvaluation

__all__ = ["eval_adaptation"]


def _ints(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidInputError(
            f"{option} takes comma-separated whole numbers, not {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise InvalidInputError(f"{option} takes comma-separated whole numbers >= 0")
    return values


def eval_adaptation(
    data: Annotated[Path | None, data_option("zh_sms/, uci_sms/ and fraud_texts_zh/")] = None,
    campaign: Annotated[
        str,
        typer.Option(
            help="Fraud type(s) of fraud_texts_zh playing the new campaign, comma-separated."
        ),
    ] = "冒充领导、熟人类",
    steps: Annotated[str, typer.Option(help="Numbers of reports to feed.")] = "0,50,200,500,1000",
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds, the campaign order, anchors.")] = 0,
    anchors: Annotated[
        int, typer.Option(min=0, help="Anchor messages per fold (0: update without replay).")
    ] = 6000,
    prior: Annotated[float, typer.Option(min=1e-6, help="Pull towards the base weights.")] = 0.3,
    anchor_weight: Annotated[float, typer.Option(min=0.0, help="Weight of each anchor.")] = 20.0,
    limit: Annotated[
        int | None,
        typer.Option(help="Sample N messages of each set and the campaign (smoke run).", min=10),
    ] = None,
    output: Annotated[Path | None, output_option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Recall on a new campaign after N reports, with precision on legitimate traffic held."""
    from telewarden.cli.common import print_json, stderr, stdout
    from telewarden.services.evaluation_adaptation import evaluate_adaptation

    folder = require_data(data, folds)
    types = tuple(t.strip() for t in campaign.split(",") if t.strip())
    with stderr().status("evaluating") as status:
        report = evaluate_adaptation(
            folder,
            campaign=types,
            steps=_ints(steps, "--steps"),
            folds=folds,
            seed=seed,
            anchors=anchors,
            prior=prior,
            anchor_weight=anchor_weight,
            limit=limit,
            step=lambda what: status.update(what),
        )
    figures = report.to_dict()
    if output is not None:
        write_json(output, figures)
    if as_json:
        print_json(figures)
    else:
        render(report, stdout())


def render(report: AdaptationEvaluation, out: Console) -> None:
    """The curve as one table, then the goal."""
    from rich import box
    from rich.table import Table

    names = list(next(s.spam for s in report.steps if s.spam))
    columns = ["reports", "caught"]
    for name in names:
        # Short headers keep the table inside 80 columns (zh = zh_sms, uci = uci_sms).
        short = name.split("_")[0]
        columns += [f"{short} P", f"{short} R", f"{short} F1"]
    columns.append("en ok")
    limited = f", sample of {report.limit} per set" if report.limit else ""
    table = Table(
        *columns,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"Adaptation to {' + '.join(report.campaign)} ({report.n_held_out} held out, "
        f"{report.n_pool} to report; joint {report.folds}-fold CV, {report.anchors} anchors, "
        f"prior {report.prior:g}, anchor weight {report.anchor_weight:g}{limited})",
    )
    for s in report.steps:
        if s.campaign_recall is None:
            table.add_row(str(s.reports), "n/a")
            continue
        cells = [str(s.reports), f"{s.campaign_recall:.1%}"]
        for name in names:
            m = s.spam[name]
            cells += [f"{m.precision:.4f}", f"{m.recall:.4f}", f"{m.f1:.4f}"]
        flagged = s.check_legit_flagged
        table.add_row(*cells, "" if flagged is None else f"{flagged:.1%}")
    out.print(table)
    out.print(
        "caught: share of the held-out campaign flagged; P/R/F1: spam detection out of fold; "
        "en ok: legitimate messages of check_en_modern.tsv flagged (40 per fold)"
    )
    if any(s.campaign_recall is None for s in report.steps):
        out.print(f"n/a: the campaign has only {report.n_pool} messages to report")
    goal = report.goal()
    if not goal["measured"]:
        out.print(f"goal at {goal['reports']} reports: not measured (too few to report)")
        return
    drops = ", ".join(f"{n} {-d:+.4f}" for n, d in goal["f1_drop"].items())
    out.print(
        f"goal at {goal['reports']} reports (caught >= 90 %, F1 drop <= 0.01): "
        f"caught {goal['campaign_recall']:.1%}, F1 change {drops}: "
        f"{'met' if goal['met'] else 'not met'}"
    )
