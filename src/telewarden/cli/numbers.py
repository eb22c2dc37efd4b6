"""`telewarden numbers`: behaviour features, training, scores and explanations for numbers.

Commands (the work is done in ``telewarden.services.number_features`` and
``telewarden.services.number_scoring``; this module parses and renders):

- ``numbers features``: the 55 Sichuan features from the contest's four tables (``--voc --sms
  --app --user``) or from canonical records (``--calls --sms [--usage --subscribers --cells]``);
- ``numbers train``: train the scorer on a carrier's features and outcomes, with its card
  (``telewarden.services.number_training``);
- ``numbers domain``: whether features look like a model's training data (PSI);
- ``numbers score`` / ``numbers explain``: calibrated scores, flags and reasons;
- ``numbers compile``: build the model's native-code predictor once (cached beside the model).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption

app = typer.Typer(
    help="Behaviour features, scoring and explanations for numbers.", no_args_is_help=True
)
console = Console()


class UnlabelledChoice(StrEnum):
    """What ``numbers train`` does with numbers no outcome labels."""

    ERROR = "error"
    SKIP = "skip"
    LEGITIMATE = "legitimate"


EdgesOption = Annotated[Path | None, typer.Option(help="Contact edges src,dst.")]
ModelOption = Annotated[Path | None, typer.Option(help="Model file; default: shipped.")]


@app.command("features")
def features(
    output: Annotated[Path, typer.Option("--output", "-o", help="Features file (.csv/.parquet).")],
    voc: Annotated[Path | None, typer.Option(help="Contest voc (calls) table.")] = None,
    sms: Annotated[Path | None, typer.Option(help="Contest sms table, or canonical sms.")] = None,
    app_table: Annotated[Path | None, typer.Option("--app", help="Contest app table.")] = None,
    user: Annotated[Path | None, typer.Option(help="Contest user table.")] = None,
    calls: Annotated[Path | None, typer.Option(help="Canonical calls (switches mode).")] = None,
    usage: Annotated[Path | None, typer.Option(help="Canonical usage.")] = None,
    subscribers: Annotated[Path | None, typer.Option(help="Canonical subscribers.")] = None,
    cells: Annotated[Path | None, typer.Option(help="Canonical cells.")] = None,
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
) -> None:
    """Compute the 55 Sichuan features; bad rows go to <output>.quarantine.csv with reasons."""
    from telewarden.services.number_features import compute_features

    def given(**paths: Path | None) -> dict[str, Path]:
        return {name: path for name, path in paths.items() if path is not None}

    canonical = contest = None
    if calls is not None:
        canonical = given(calls=calls, sms=sms, usage=usage, subscribers=subscribers, cells=cells)
    else:
        contest = given(voc=voc, sms=sms, app=app_table, user=user)
    with console.status("reading rows and aggregating features"):
        report = compute_features(
            output,
            contest=contest,
            canonical=canonical,
            encoding=encoding,
            max_quarantine_share=max_quarantine_share,
        )
    where = f" -> {report.quarantine_path}" if report.quarantine_path else ""
    console.print(
        f"read {report.rows_read:,} rows: {report.accepted:,} accepted, "
        f"{report.quarantined:,} quarantined{where}"
    )
    console.print(
        f"{report.numbers:,} numbers x 55 features -> {output} in {report.seconds:.2f} s "
        f"({report.rows_read / max(report.seconds, 1e-9):,.0f} rows/s)"
    )


@app.command("train")
def train(
    features_path: Annotated[Path, typer.Option("--features", help="Features with key column.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file (.json.gz).")],
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Key + label (1 = fraud), e.g. `reports outcomes --output`; "
            "default: the features' `label` column."
        ),
    ] = None,
    edges: EdgesOption = None,
    unlabelled: Annotated[
        UnlabelledChoice, typer.Option(help="Numbers without an outcome.")
    ] = UnlabelledChoice.ERROR,
    folds: Annotated[
        int, typer.Option(min=0, help="Cross-validation folds for the card (0: none).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds.")] = 0,
    rounds: Annotated[int, typer.Option(help="Boosting rounds.")] = 700,
    forest_trees: Annotated[
        int, typer.Option(help="Trees of the random-forest member (0: boosting alone).")
    ] = 300,
) -> None:
    """Train the number scorer on your records' features and outcomes; write it and its card."""
    from telewarden.services.number_training import train_scorer

    with console.status(f"training on {features_path}"):
        report = train_scorer(
            features_path,
            output,
            labels=labels,
            edges=edges,
            rounds=rounds,
            forest_trees=forest_trees,
            folds=folds,
            seed=seed,
            unlabelled=unlabelled.value,
        )
    console.print(
        f"trained on {report.numbers:,} numbers ({report.fraud:,} fraud; "
        f"{report.duplicates:,} duplicate rows dropped, {report.unlabelled:,} without an "
        f"outcome); model -> {output}: {report.features} features, threshold "
        f"{report.threshold:.3f}, {report.seconds:.1f} s"
    )
    if report.cv is not None:
        cv = report.cv
        console.print(
            f"{cv.folds}-fold CV: AUC {cv.auc:.4f}, precision {cv.precision:.4f}, recall "
            f"{cv.recall:.4f}, F1 {cv.f1:.4f}, flag share {cv.flag_share:.4%}"
        )
    act = "may act on its flags" if report.act_on_flags else "keeps its flags advisory"
    console.print(f"detect --scorer-acts {act}; card -> {report.card}")


@app.command("domain")
def domain(
    features_path: Annotated[Path, typer.Option("--features", help="Features file.")],
    model: ModelOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Do these features look like the model's training data? (per-feature PSI)"""
    from telewarden.services.number_domain import check_features_file

    check = check_features_file(features_path, model, encoding)
    if check is None:
        console.print(f"{model} carries no training profile (trained before profiles existed)")
        raise typer.Exit(1)
    table = Table("feature", "PSI")
    for name, value in check.psi[:10]:
        table.add_row(name, f"{value:.3f}")
    console.print(table)
    console.print(f"{check.rows:,} numbers: {check.summary()}")
    if not check.in_domain:
        raise typer.Exit(1)


@app.command("score")
def score(
    features_path: Annotated[Path, typer.Option("--features", help="Features file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scores (.csv/.parquet).")],
    edges: EdgesOption = None,
    model: ModelOption = None,
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
    explain: Annotated[
        str, typer.Option(help="Rows given reasons: flagged, all or none.")
    ] = "flagged",
    engine: Annotated[
        str,
        typer.Option(
            help="auto (compiled when cached, see `numbers compile`), compiled or lightgbm."
        ),
    ] = "auto",
    threads: Annotated[int | None, typer.Option(help="Threads; default: every core.")] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per streamed chunk.", min=1)] = 100_000,
) -> None:
    """Score numbers: key, calibrated score, flagged, reasons."""
    from telewarden.services.number_scoring import score_numbers

    with console.status(f"scoring {features_path}"):
        report = score_numbers(
            features_path,
            output,
            edges=edges,
            model=model,
            encoding=encoding,
            max_quarantine_share=max_quarantine_share,
            explain=explain,  # type: ignore[arg-type]  # checked by the service
            engine=engine,  # type: ignore[arg-type]  # checked by the service
            threads=threads,
            chunk_rows=chunk_rows,
        )
    if report.quarantine_path is not None:
        console.print(
            f"read {report.rows_read:,} rows: {report.numbers:,} accepted, "
            f"{report.quarantined:,} quarantined -> {report.quarantine_path}"
        )
    console.print(
        f"{report.numbers:,} numbers scored, {report.flagged:,} flagged -> {output} "
        f"({report.numbers / max(report.seconds, 1e-9):,.0f} numbers/s, {report.engine})"
    )


@app.command("compile")
def compile_(
    model: ModelOption = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache folder; default: beside the model.")
    ] = None,
) -> None:
    """Compile the model's trees to native code once; `numbers score` then uses it."""
    from telewarden.services.number_scoring import compile_model

    with console.status("compiling the tree ensembles (minutes, once per model)"):
        report = compile_model(model, cache_dir)
    for member, how, path in report.members:
        console.print(f"{member}: {how} -> {path}")
    console.print(f"compiled model ready in {report.seconds:.1f} s")


@app.command("explain")
def explain(
    number: Annotated[str, typer.Argument(help="phone_no_m / msisdn to explain.")],
    features_path: Annotated[Path, typer.Option("--features", help="Features file.")],
    edges: EdgesOption = None,
    model: ModelOption = None,
    top: Annotated[int, typer.Option(help="Features to show.")] = 10,
) -> None:
    """Show a number's score and the features that pushed it (TreeSHAP log-odds)."""
    from telewarden.services.number_scoring import explain_number

    found = explain_number(number, features_path, edges=edges, model=model, top=top)
    forest = "" if found.forest is None else f", forest member {found.forest:+.2f}"
    console.print(
        f"{number}: score {found.score:.3f} "
        f"({'FLAGGED' if found.flagged else 'not flagged'}; threshold "
        f"{found.threshold:.3f}); base log-odds {found.bias:+.2f}{forest}"
    )
    table = Table("feature", "value", "log-odds push")
    for push in found.pushes:
        table.add_row(push.name, f"{push.value:.4g}", f"{push.log_odds:+.3f}")
    console.print(table)
