"""`telewarden eval sms`: reproduce the SMS model card's figures on a data folder and print them.

A carrier reruns the measurement on its own copy of the sets (or on sets laid out the same way);
the command prints the figures and writes a file only where ``--output`` says. The use case is
``telewarden.services.evaluation_sms``; the prose block of ``docs/evaluation.md`` is release
tooling (``scripts/write_evaluation_sms.py``), not this command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.eval_data import data_option, output_option, require_data, write_json

if TYPE_CHECKING:
    from rich.console import Console

    from telewarden.core.sms.evaluation import BinaryMetrics
    from telewarden.services.evaluation_sms import SmsEvaluation

__all__ = ["eval_sms"]


def eval_sms(
    data: Annotated[
        Path | None,
        data_option("zh_sms/ and uci_sms/ (fraud_texts_zh/, fraud_news_zh/ optional)"),
    ] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    quick: Annotated[
        bool, typer.Option(help="Skip the slow fraud-type research models (for smoke runs).")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            help="Use an evenly spaced sample of N messages of each set (a smoke run).", min=10
        ),
    ] = None,
    output: Annotated[Path | None, output_option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Reproduce the SMS evaluation figures (cross-validated) and print them."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.cli.common import print_json, stderr, stdout
    from telewarden.services.evaluation_sms import evaluate_sms

    folder = require_data(data, folds)
    with stderr().status("evaluating") as status:
        report = evaluate_sms(
            folder,
            clock=SystemClock(),
            folds=folds,
            quick=quick,
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
    if output is not None:
        stderr().print(f"wrote the figures to {output}")


def _metric_cells(m: BinaryMetrics) -> list[str]:
    return [f"{m.precision:.4f}", f"{m.recall:.4f}", f"{m.f1:.4f}"]


def render(report: SmsEvaluation, out: Console) -> None:
    """Print every figure of ``report`` as tables."""
    from rich.table import Table

    limited = f", sample of {report.limit} messages per set" if report.limit else ""
    table = Table(
        "set", "n", "spam", "precision", "recall", "F1", "macro-F1",
        title=f"Spam detection: shipped protocol, joint {report.folds}-fold CV{limited}",
    )  # fmt: skip
    for name, m in report.spam.items():
        table.add_row(name, str(m.n), str(m.n_positive), *_metric_cells(m), f"{m.macro_f1:.4f}")
    for name, m in report.spam_before.items():
        table.add_row(
            f"{name}, features before #17", str(m.n), str(m.n_positive), *_metric_cells(m),
            f"{m.macro_f1:.4f}",
        )  # fmt: skip
    out.print(table)
    thresholds = ", ".join(
        f"{cjk:.2f} / {latin:.2f}" if cjk is not None else f"{latin:.2f}"
        for cjk, latin in report.fold_thresholds
    )
    out.print(f"fold thresholds (Chinese / Latin): {thresholds}")
    out.print(f"duplicates dropped: {report.duplicates}")
    table = Table("in the message", "zh_sms ham", "zh_sms spam", title="zh_sms class shares")
    for label, (ham, spam) in report.zh_shares.items():
        table.add_row(label, f"{ham:.1%}", f"{spam:.1%}")
    out.print(table)
    table = Table("variant", "set", "precision", "recall", "F1", title="Chinese punctuation")
    for variant, metrics in (
        ("shipped (punctuation dropped)", report.spam),
        ("punctuation kept", report.punctuation_kept),
    ):
        for name, m in metrics.items():
            table.add_row(variant, name, *_metric_cells(m))
    out.print(table)
    shipped, kept = report.chat_flags
    out.print(f"family chats flagged (of 4): shipped {shipped}, punctuation kept {kept}")
    check = report.check
    table = Table("message", "ok", "spam", "scam", title="Generalisation check (check_en_modern)")
    for label, counts in check.counts.items():
        table.add_row(label, *(str(counts[v]) for v in ("ok", "spam", "scam")))
    out.print(table)
    for text, verdict in check.misjudged_ham:
        out.print(f"  legitimate, called {verdict}: {text}")
    _render_checks(report, out)
    _render_fraud_sets(report, out)
    for name, path in report.missing.items():
        out.print(f"{name}: missing at {path} (not evaluated)")
    out.print(f"run time: {report.duration_s:.0f} s")


def _render_checks(report: SmsEvaluation, out: Console) -> None:
    from rich.table import Table

    table = Table(
        "check set", "type", "right", "of", title="Out-of-distribution checks (issue #17; "
        "spam rows right when not ok, ham rows right when ok)",
    )  # fmt: skip
    for result in report.checks:
        right = sum(good for good, _ in result.by_type.values())
        table.add_row(result.name, "all", str(right), str(result.n))
        for kind, (good, total) in sorted(result.by_type.items()):
            table.add_row("", kind, str(good), str(total))
    out.print(table)
    for result in report.checks:
        for kind, verdict, text in result.wrong:
            out.print(f"  {result.name} {kind}, called {verdict}: {text}")


def _render_fraud_sets(report: SmsEvaluation, out: Console) -> None:
    from rich.table import Table

    types = Table(
        "set", "research strict", "research lenient", "lexicon strict", "lexicon lenient",
        title="Fraud types (macro-F1; research = nested CV, lexicon = shipped typer)",
    )  # fmt: skip
    skipped = "(skipped)" if report.quick else "-"
    if (ft := report.fraud_texts) is not None:
        table = Table("counted as fraud", "precision", "recall", "F1", title="fraud_texts_zh")
        table.add_row("verdict scam", *_metric_cells(ft.scam))
        table.add_row("verdict scam or spam", *_metric_cells(ft.not_ok))
        out.print(table)
        normal = ft.normal_verdicts
        out.print(
            f"{ft.n_texts} texts ({ft.duplicates} duplicates dropped); `normal` texts got: "
            f"ok {normal['ok']}, spam {normal['spam']}, scam {normal['scam']}"
        )
        research = f"{ft.research_macro_f1:.4f}" if ft.research_macro_f1 is not None else skipped
        types.add_row(
            f"fraud_texts_zh ({ft.n_typed} texts)", research, "-", f"{ft.lexicon_macro_f1:.4f}", "-"
        )
    if (fn := report.fraud_news) is not None:
        lexicon = (f"{fn.lexicon_strict:.4f}", f"{fn.lexicon_lenient:.4f}")
        if not fn.research:
            types.add_row(f"fraud_news_zh ({fn.n_titles} titles)", skipped, skipped, *lexicon)
        for row in fn.research:
            types.add_row(
                f"fraud_news_zh ({fn.n_titles} titles), {row.label}",
                f"{row.strict:.4f}",
                f"{row.lenient:.4f}",
                *lexicon,
            )
    if types.row_count:
        out.print(types)
