"""`telewarden sms`: SMS content verdicts, explanations and retraining (parsing and rendering only).

Commands (the use cases live in ``telewarden.services.sms_classify`` and ``sms_training``):

- ``sms classify``: verdict, score, fraud types and indicators for every row of a TSV, CSV or
  JSONL file, keeping the other columns; malformed rows are quarantined with line and reason;
- ``sms explain``: the reasoning behind one message's verdict;
- ``sms train``: retrain the model on a carrier's own labelled messages.

Legal gate: while the stored policy or the process setting switches ``content_inspection``
off, all three refuse to read message content (exit 3) and write nothing. ``telewarden eval
sms`` (``telewarden.cli.eval_sms``) reads only the public research sets and still runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.adapters.files.messages import MessageFormat
from telewarden.cli.common import print_json, stderr, stdout
from telewarden.cli.eval_sms import eval_sms
from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption
from telewarden.core.errors import InvalidInputError

if TYPE_CHECKING:
    from telewarden.services.context import AppContext
    from telewarden.services.sms_classify import ClassifierOptions, ExplainReport

__all__ = ["FileFormat", "app", "classify", "eval_sms", "explain", "train"]

app = typer.Typer(
    help="Classify SMS content, explain verdicts, retrain the model.", no_args_is_help=True
)

FileFormat = MessageFormat
"""Input/output table formats (the name the command options have always used)."""

ModelOption = Annotated[Path | None, typer.Option(help="Model file (default: the shipped model).")]
NumbersOption = Annotated[
    bool, typer.Option(help="Classify phone numbers with the number intelligence (origin, kind).")
]


@contextmanager
def _context() -> Iterator[AppContext]:
    """The services' context: the stored policy (the legal gate) and the process settings."""
    from telewarden.cli.common import app_context, open_store

    store = open_store()
    try:
        yield app_context(store)
    finally:
        store.close()


def _options(model: Path | None, shorteners: Path | None, numbers: bool) -> ClassifierOptions:
    from telewarden.services.sms_classify import ClassifierOptions

    return ClassifierOptions(model=model, shorteners=shorteners, numbers=numbers)


@app.command("classify")
def classify(
    input: Annotated[Path, typer.Option("--input", "-i", help="TSV, CSV or JSONL file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write results.")],
    fmt: Annotated[
        FileFormat | None,
        typer.Option("--format", help="Input format (default: from the file suffix)."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Column holding the message body.")] = "text",
    model: ModelOption = None,
    shorteners: Annotated[
        Path | None, typer.Option(help="File with one URL-shortener host per line.")
    ] = None,
    numbers: NumbersOption = True,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Rejected rows (default: <output stem>.quarantine.csv)."),
    ] = None,
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
    shadow: int | None = typer.Option(
        None, "--shadow", help="Also score with this registered version; record the comparison."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes (default: up to 2 for a large input)."
    ),
) -> None:
    """Write verdict, score, fraud types and indicators for every row of INPUT."""
    from telewarden.cli.progress import progress_bar
    from telewarden.services.sms_classify import classify_file

    out = stdout()
    # The bar starts once the use case knows the row count, i.e. after the legal gate and the
    # input's header were checked, so a refusal prints its one line and nothing else.
    progress = progress_bar("classifying", stderr(), transient=True)
    task = progress.add_task("rows", total=None, start=False)

    started: list[bool] = []

    def start(total: int) -> None:
        progress.update(task, total=total)
        progress.start_task(task)
        progress.start()
        started.append(True)

    try:
        with _context() as ctx:
            report = classify_file(
                ctx,
                input,
                output,
                fmt=fmt,
                text_column=text_column,
                options=replace(_options(model, shorteners, numbers), shadow=shadow),
                quarantine=quarantine,
                on_total=start,
                progress=lambda rows: progress.advance(task, rows),
                encoding=encoding,
                max_quarantine_share=max_quarantine_share,
                workers=workers,
            )
    finally:
        if started:
            progress.stop()
    if report.quarantine_path is not None:
        out.print(f"quarantined {report.quarantined} rows -> {report.quarantine_path}")
    verdicts = report.by_verdict
    out.print(
        f"read {report.rows_read} = accepted {report.accepted} + quarantined "
        f"{report.quarantined}; ok {verdicts['ok']}, spam {verdicts['spam']}, "
        f"scam {verdicts['scam']}"
    )
    if (run := report.shadow_run) is not None:
        out.print(f"shadow run {run.id}: version {run.candidate} agrees on {run.agreement:.2%}")
    rate = report.accepted / report.duration_s if report.duration_s else 0
    out.print(
        f"classified {report.accepted} messages in {report.duration_s:.2f} s "
        f"({rate:,.0f} messages/s) -> {report.output}"
    )


@app.command("explain")
def explain(
    text: Annotated[str, typer.Argument(help="The message body.")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    numbers: NumbersOption = True,
) -> None:
    """Print the verdict on TEXT and the reasoning behind it."""
    from telewarden.services.sms_classify import explain_message

    with _context() as ctx:
        report = explain_message(ctx, text, _options(model, None, numbers))
    if as_json:
        print_json(report.to_dict())
        return
    _render_explanation(report)


def _render_explanation(report: ExplainReport) -> None:
    from rich.table import Table

    out, res = stdout(), report.result
    out.print(
        f"[bold]{res.verdict}[/]  score {res.score:.3f} (model threshold {res.threshold:.2f}); "
        f"scam evidence {res.evidence.score:.1f} (rule: scam when score >= threshold and "
        f"evidence >= {report.scam_with_score}, or a brand/risky indicator and evidence >= "
        f"{report.scam_alone})"
    )
    if res.evidence.cues:
        out.print("cues: " + ", ".join(res.evidence.cues))
    if res.indicators:
        table = Table("indicator", "value", "detail", "risk")
        for ind in res.indicators:
            table.add_row(str(ind.kind), ind.value, ind.detail, f"{ind.risk:.2f}")
        out.print(table)
    if res.fraud_types:
        label = "fraud types" if str(res.verdict) == "scam" else "closest fraud types"
        out.print(
            f"{label}: "
            + "; ".join(
                f"{t.code} {t.name_en} ({t.score:.2f}: {', '.join(t.cues)})"
                for t in res.fraud_types
            )
        )
    table = Table("n-gram", "log-odds contribution")
    for name, contribution in res.top_features:
        table.add_row(name, f"{contribution:+.3f}")
    out.print(table)


@app.command("train")
def train(
    input: Annotated[Path, typer.Option("--input", "-i", help="Labelled TSV, CSV or JSONL.")],
    label_column: Annotated[str, typer.Option(help="Column with the label.")] = "label",
    text_column: Annotated[str, typer.Option(help="Column with the message body.")] = "text",
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")] = Path(
        "sms_model.npz"
    ),
    fmt: Annotated[FileFormat | None, typer.Option("--format", help="Input format.")] = None,
    c: Annotated[float, typer.Option(help="Inverse regularisation strength of the SVM.")] = 2.0,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Rejected rows (default: <output stem>.quarantine.csv)."),
    ] = None,
    encoding: EncodingOption = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Continue training a model instead of fitting a new one: 'shipped' or a "
            "model file (for when its training set is not at hand).",
        ),
    ] = None,
    anchors: Annotated[
        Path | None,
        typer.Option(
            "--anchors",
            help="With --base: unlabelled ordinary traffic (same format, text column), "
            "pseudo-labelled by the base so legitimate traffic keeps its verdicts. Advised.",
        ),
    ] = None,
    prior: Annotated[
        float, typer.Option(min=1e-6, help="With --base: pull towards the base weights.")
    ] = 0.3,
    anchor_weight: Annotated[
        float, typer.Option(min=0.0, help="With --base: weight of each anchor message.")
    ] = 20.0,
) -> None:
    """Retrain the SMS model on your own labelled messages (spam/scam/1 vs ham/ok/0)."""
    from telewarden.services.sms_training import train_from_file, update_from_file

    if base is not None:
        with _context() as ctx, stderr().status("updating"):
            update = update_from_file(
                ctx,
                input,
                output,
                base=base,
                anchors=anchors,
                fmt=fmt,
                label_column=label_column,
                text_column=text_column,
                prior=prior,
                anchor_weight=anchor_weight,
                quarantine=quarantine,
                encoding=encoding,
            )
        stdout().print(
            f"read {update.rows_read} rows = used {update.used} ({update.positives} not ok) + "
            f"duplicates {update.duplicates} + quarantined {update.quarantined}; "
            f"{update.anchors} anchor messages ({update.anchors_quarantined} quarantined); "
            f"{update.weights_changed} weights changed, {update.new_ngrams} new n-grams; "
            f"base {update.base}; updated in {update.duration_s:.1f} s -> {update.output}"
        )
        if anchors is None:
            stderr().print(
                "no --anchors: legitimate traffic that shares words with the new messages "
                "may be flagged more (see docs/learning.md)"
            )
        for row in update.rejected[:10]:
            stderr().print(f"quarantined line {row.line}: {row.reason}")
        return
    if anchors is not None:
        raise InvalidInputError("--anchors needs --base (a new fit has no base to replay)")

    with _context() as ctx, stderr().status("training"):
        report = train_from_file(
            ctx,
            input,
            output,
            fmt=fmt,
            label_column=label_column,
            text_column=text_column,
            c=c,
            quarantine=quarantine,
            encoding=encoding,
        )
    stdout().print(
        f"read {report.rows_read} rows = used {report.used} + duplicates {report.duplicates} "
        f"+ quarantined {report.quarantined}; threshold {report.threshold:.2f} "
        f"(inner 3-fold CV); trained in {report.duration_s:.1f} s -> {report.output}"
    )
    err = stderr()
    for row in report.rejected[:10]:
        err.print(f"quarantined line {row.line}: {row.reason}")
    if report.quarantine_path is not None:
        err.print(f"quarantine: {report.quarantine_path}")
