"""`telewarden eval own-scorer`: a scorer trained on one simulated day, on the next (issue #17).

The work is done in ``telewarden.services.evaluation_own_scorer``; this module parses and renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from telewarden.cli.common import stderr, stdout

if TYPE_CHECKING:
    from telewarden.services.evaluation_own_scorer import DayFigures, OwnScorerEvaluation


def _day(figures: DayFigures) -> dict[str, Any]:
    return {
        "numbers": figures.numbers,
        "fraud": figures.fraud,
        "flagged": figures.flagged,
        "true_flagged": figures.true_flagged,
        "precision": figures.precision,
        "recall": figures.recall,
        "flag_share": figures.flag_share,
        "legit_flag_share": figures.legit_flag_share,
        "per_kind": {k: {"cards": n, "flagged": f} for k, n, f in figures.per_kind},
    }


def as_dict(result: OwnScorerEvaluation) -> dict[str, Any]:
    """The figures as JSON-ready data."""
    return {
        "preset": result.preset,
        "train_seed": result.train_seed,
        "test_seed": result.test_seed,
        "train_numbers": result.train_numbers,
        "train_fraud": result.train_fraud,
        "threshold": result.threshold,
        "cv": None if result.cv is None else result.cv.to_dict(),
        "own_next_day": _day(result.own),
        "shipped_next_day": _day(result.shipped),
        "own_domain": {
            "in_domain": result.own_domain.in_domain,
            "summary": result.own_domain.summary(),
        },
        "shipped_domain": None
        if result.shipped_domain is None
        else {
            "in_domain": result.shipped_domain.in_domain,
            "summary": result.shipped_domain.summary(),
        },
        "precise_enough": result.precise_enough,
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
    }


def eval_own_scorer(
    train_seed: Annotated[int, typer.Option(help="Seed of day A (trained on).")] = 11,
    test_seed: Annotated[int, typer.Option(help="Seed of day B (never trained on).")] = 12,
    preset: Annotated[str, typer.Option(help="Simulator preset.")] = "day",
    subscribers: Annotated[
        int | None, typer.Option(min=50, help="Override the preset's subscriber count.")
    ] = None,
    folds: Annotated[int, typer.Option(min=0, help="CV folds on day A (0: none).")] = 5,
    rounds: Annotated[int, typer.Option(min=1, help="Boosting rounds.")] = 700,
    forest_trees: Annotated[int, typer.Option(min=0, help="Random-forest trees.")] = 300,
    model_output: Annotated[
        Path | None, typer.Option(help="Also write the day-A model (and its card) here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Precision, recall and flag share on the next day of a scorer trained on one day's outcomes."""
    from telewarden.services.evaluation_own_scorer import evaluate_own_scorer
    from telewarden.services.number_training import ACT_MIN_PRECISION

    err = stderr()
    with err.status("starting") as status:
        result = evaluate_own_scorer(
            train_seed=train_seed,
            test_seed=test_seed,
            preset_name=preset,
            subscribers=subscribers,
            rounds=rounds,
            forest_trees=forest_trees,
            folds=folds,
            model_output=model_output,
            on_stage=status.update,
        )
    out = stdout()
    if as_json:
        out.print_json(json.dumps(as_dict(result)))
        return
    out.print(
        f"day A (seed {train_seed}, {preset}): trained on {result.train_numbers:,} subscribers, "
        f"{result.train_fraud} fraud cards; threshold {result.threshold:.4f}"
    )
    if result.cv is not None:
        cv = result.cv
        out.print(
            f"  {cv.folds}-fold CV on day A: AUC {cv.auc:.4f}, precision {cv.precision:.4f} "
            f"({cv.true_flagged}/{cv.flagged}), recall {cv.recall:.4f}, flag share "
            f"{cv.flag_share:.4%}"
        )
    for name, day in (("own scorer", result.own), ("shipped Sichuan model", result.shipped)):
        out.print(
            f"day B (seed {test_seed}), {name}: precision {day.precision:.4f} "
            f"({day.true_flagged}/{day.flagged}), recall {day.recall:.4f} "
            f"({day.true_flagged}/{day.fraud}), flag share {day.flag_share:.4%}, ordinary "
            f"subscribers flagged {day.legit_flag_share:.4%}"
        )
        kinds = ", ".join(f"{k} {f}/{n}" for k, n, f in day.per_kind)
        out.print(f"  caught per campaign kind: {kinds}")
    out.print(f"domain check on day B, own scorer: {result.own_domain.summary()}")
    if result.shipped_domain is not None:
        out.print(f"domain check on day B, shipped model: {result.shipped_domain.summary()}")
    verdict = "at or above" if result.precise_enough else "BELOW"
    out.print(
        f"next-day precision {result.own.precision:.4f} is {verdict} the {ACT_MIN_PRECISION} "
        f"needed to act on flags; {result.seconds:.0f} s ({result.cpu_seconds:.0f} CPU s)"
    )
