"""`telewarden sms` and `telewarden eval sms`: SMS content verdicts, explanations, retraining.

Commands:

- ``sms classify``: verdict, score, fraud types and indicators for every row of a TSV, CSV or
  JSONL file, keeping the other columns; malformed rows are quarantined with line and reason;
- ``sms explain``: the reasoning behind one message's verdict;
- ``sms train``: retrain the model on a carrier's own labelled messages;
- ``eval sms``: every cross-validated figure of the model card, written into the ``eval-sms``
  block of ``docs/evaluation.md``.

Legal gate: when the ``content_inspection`` setting is false, ``classify``, ``explain`` and
``train`` refuse to read message content (exit 3) instead of writing ``not_inspected`` rows;
``eval sms`` still runs, since it reads only the public research sets.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from telewarden.cli.progress import progress_bar
from telewarden.core.errors import ConfigurationError, InvalidInputError, MalformedRecordError
from telewarden.core.sms.fraud_typer import FraudTyper
from telewarden.core.sms.fraud_types_data import DATASET_LABELS
from telewarden.core.sms.indicators import IndicatorExtractor
from telewarden.settings import load_settings

app = typer.Typer(
    help="Classify SMS content, explain verdicts, retrain the model.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)

_ROOT = Path(__file__).resolve().parents[3]
_BATCH = 2000
csv.field_size_limit(sys.maxsize)


if TYPE_CHECKING:
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.core.sms.inspector import SmsClassifier


# scikit-learn and SciPy take seconds to import; every `telewarden` command would pay that if
# the model code were imported at module level, so the SMS commands reach it through these.
def load_model(path: Path) -> SmsModel:
    """Load an SMS model file."""
    from telewarden.adapters.sms_model import load_model as load

    return load(path)


def load_default_model() -> SmsModel:
    """Load the shipped SMS model."""
    from telewarden.adapters.sms_model import load_default_model as load

    return load()


def save_model(model: SmsModel, path: Path) -> Any:
    """Write an SMS model file."""
    from telewarden.adapters.sms_model import save_model as save

    return save(model, path)


def fit_model(*args: Any, **kwargs: Any) -> SmsModel:
    """See ``telewarden.core.sms.classifier.fit_model``."""
    from telewarden.core.sms.classifier import fit_model as fit

    return fit(*args, **kwargs)


def _new_classifier(model: SmsModel, **kwargs: Any) -> SmsClassifier:
    from telewarden.core.sms.inspector import SmsClassifier

    return SmsClassifier(model, **kwargs)


class FileFormat(StrEnum):
    """Input/output table formats."""

    TSV = "tsv"
    CSV = "csv"
    JSONL = "jsonl"


# -- helpers ------------------------------------------------------------------------------


def _require_inspection() -> None:
    settings = load_settings()
    if not settings.content_inspection:
        raise ConfigurationError(
            "content inspection is switched off for this deployment "
            "(content_inspection = false, e.g. TELEWARDEN_CONTENT_INSPECTION=false): SMS bodies "
            "are not read; SMS screening falls back to sender and metadata rules"
        )


def _shortener_list(path: Path | None) -> frozenset[str] | None:
    if path is None:
        return None
    if not path.is_file():
        raise InvalidInputError(f"no such shortener list: {path}")
    hosts = [ln.strip().lower() for ln in path.read_text(encoding="utf-8").splitlines()]
    return frozenset(h for h in hosts if h and not h.startswith("#"))


def _numbers() -> Any:
    try:
        from telewarden.core.numbers import NumberIntel
    except ImportError:  # number intelligence not installed in this build
        return None
    return NumberIntel()


def _classifier(
    model_path: Path | None, shorteners: Path | None = None, *, numbers: bool = True
) -> SmsClassifier:
    model = load_model(model_path) if model_path else load_default_model()
    short = _shortener_list(shorteners)
    intel = _numbers() if numbers else None
    extractor = (
        IndicatorExtractor(shorteners=short, numbers=intel)
        if short is not None
        else IndicatorExtractor(numbers=intel)
    )
    return _new_classifier(model, extractor=extractor)


def _detect_format(path: Path, given: FileFormat | None) -> FileFormat:
    if given is not None:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("tsv", "txt", "tab"):
        return FileFormat.TSV
    if suffix in ("jsonl", "ndjson", "json"):
        return FileFormat.JSONL
    return FileFormat.CSV


@dataclass(slots=True)
class _Row:
    line: int
    fields: dict[str, Any]


@contextmanager
def _open_rows(
    path: Path, fmt: FileFormat, text_column: str, quarantine: list[MalformedRecordError]
) -> Iterator[tuple[list[str], Iterator[_Row]]]:
    """Header and a row iterator; malformed rows go to ``quarantine`` instead."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        yield _read_rows(handle, path, fmt, text_column, quarantine)


def _read_rows(
    handle: TextIO,
    path: Path,
    fmt: FileFormat,
    text_column: str,
    quarantine: list[MalformedRecordError],
) -> tuple[list[str], Iterator[_Row]]:
    if fmt is FileFormat.JSONL:
        return [], _jsonl_rows(handle, text_column, quarantine)
    reader = (
        csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if fmt is FileFormat.TSV
        else csv.reader(handle)
    )
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInputError(f"{path}: empty file") from None
    if text_column not in header:
        raise InvalidInputError(
            f"{path}: no column {text_column!r} (columns: {', '.join(header)}); use --text-column"
        )
    return header, _table_rows(reader, header, quarantine)


def _table_rows(
    reader: Iterator[list[str]], header: list[str], quarantine: list[MalformedRecordError]
) -> Iterator[_Row]:
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line += 1
            quarantine.append(MalformedRecordError(line, f"unreadable row: {exc}"))
            continue
        line += 1
        if not values:
            quarantine.append(MalformedRecordError(line, "blank line"))
            continue
        if len(values) != len(header):
            quarantine.append(
                MalformedRecordError(line, f"{len(values)} fields, header has {len(header)}")
            )
            continue
        yield _Row(line, dict(zip(header, values, strict=True)))


def _jsonl_rows(
    handle: TextIO, text_column: str, quarantine: list[MalformedRecordError]
) -> Iterator[_Row]:
    for line, raw in enumerate(handle, start=1):
        if not raw.strip():
            quarantine.append(MalformedRecordError(line, "blank line"))
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            quarantine.append(MalformedRecordError(line, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            quarantine.append(MalformedRecordError(line, "not a JSON object"))
            continue
        if not isinstance(obj.get(text_column), str):
            quarantine.append(MalformedRecordError(line, f"no string field {text_column!r}"))
            continue
        yield _Row(line, obj)


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


class _TsvWriter:
    """Tab-separated rows without quoting; tabs and line breaks inside fields become spaces."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def writerow(self, values: list[str]) -> None:
        self.out.write("\t".join(_TSV_CLEAN.sub(" ", v) for v in values) + "\n")


_TSV_CLEAN = re.compile(r"[\t\r\n]")
_OUT_COLUMNS = ("verdict", "score", "fraud_types", "indicators")


# -- commands -----------------------------------------------------------------------------


@app.command("classify")
def classify(
    input: Annotated[Path, typer.Option("--input", "-i", help="TSV, CSV or JSONL file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write results.")],
    fmt: Annotated[
        FileFormat | None,
        typer.Option("--format", help="Input format (default: from the file suffix)."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Column holding the message body.")] = "text",
    model: Annotated[
        Path | None, typer.Option(help="Model file (default: the shipped model).")
    ] = None,
    shorteners: Annotated[
        Path | None, typer.Option(help="File with one URL-shortener host per line.")
    ] = None,
    numbers: Annotated[
        bool,
        typer.Option(help="Classify phone numbers with the number intelligence (origin, kind)."),
    ] = True,
) -> None:
    """Write verdict, score, fraud types and indicators for every row of INPUT."""
    _require_inspection()
    if not input.is_file():
        raise InvalidInputError(f"no such file: {input}")
    fmt = _detect_format(input, fmt)
    clf = _classifier(model, shorteners, numbers=numbers)
    quarantine: list[MalformedRecordError] = []
    reader = _open_rows(input, fmt, text_column, quarantine)
    header, rows = reader.__enter__()
    total_lines = max(_count_lines(input) - (1 if header else 0), 0)
    output.parent.mkdir(parents=True, exist_ok=True)
    counts = {"ok": 0, "spam": 0, "scam": 0}
    accepted = 0
    started = time.perf_counter()
    with (
        output.open("w", encoding="utf-8", newline="") as out,
        progress_bar("classifying", err_console, transient=True) as progress,
    ):
        task = progress.add_task("rows", total=total_lines)
        writer: Any = None
        if fmt is not FileFormat.JSONL:
            writer = (
                _TsvWriter(out) if fmt is FileFormat.TSV else csv.writer(out, lineterminator="\n")
            )
            writer.writerow([*header, *[c for c in _OUT_COLUMNS if c not in header]])
        batch: list[_Row] = []

        def flush() -> None:
            nonlocal accepted
            results = clf.classify_many([r.fields[text_column] for r in batch])
            for row, res in zip(batch, results, strict=True):
                counts[str(res.verdict)] = counts.get(str(res.verdict), 0) + 1
                extra = {
                    "verdict": str(res.verdict),
                    "score": round(res.score, 6),
                    "fraud_types": ";".join(t.code for t in res.fraud_types),
                    "indicators": json.dumps(
                        [i.to_dict() for i in res.indicators], ensure_ascii=False
                    ),
                }
                if writer is None:
                    out.write(json.dumps({**row.fields, **extra}, ensure_ascii=False) + "\n")
                else:
                    merged = {**row.fields, **extra}
                    writer.writerow(
                        [str(merged[c]) for c in header]
                        + [str(extra[c]) for c in _OUT_COLUMNS if c not in header]
                    )
            accepted += len(batch)
            progress.update(task, completed=accepted + len(quarantine))
            batch.clear()

        for row in rows:
            batch.append(row)
            if len(batch) >= _BATCH:
                flush()
        if batch:
            flush()
    reader.__exit__(None, None, None)
    elapsed = time.perf_counter() - started
    read = accepted + len(quarantine)
    if quarantine:
        qpath = output.with_name(output.name + ".quarantine.tsv")
        with qpath.open("w", encoding="utf-8") as qf:
            qf.write("line\treason\n")
            for q in quarantine:
                qf.write(f"{q.line}\t{q.reason}\n")
        console.print(f"quarantined {len(quarantine)} rows -> {qpath}")
    console.print(
        f"read {read} = accepted {accepted} + quarantined {len(quarantine)}; "
        f"ok {counts.get('ok', 0)}, spam {counts.get('spam', 0)}, scam {counts.get('scam', 0)}"
    )
    console.print(
        f"classified {accepted} messages in {elapsed:.2f} s "
        f"({accepted / elapsed if elapsed else 0:,.0f} messages/s) -> {output}"
    )


@app.command("explain")
def explain(
    text: Annotated[str, typer.Argument(help="The message body.")],
    model: Annotated[
        Path | None, typer.Option(help="Model file (default: the shipped model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    numbers: Annotated[
        bool,
        typer.Option(help="Classify phone numbers with the number intelligence (origin, kind)."),
    ] = True,
) -> None:
    """Print the verdict on TEXT and the reasoning behind it."""
    _require_inspection()
    clf = _classifier(model, numbers=numbers)
    res = clf.explain(text)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(
        f"[bold]{res.verdict}[/]  score {res.score:.3f} (model threshold {res.threshold:.2f}); "
        f"scam evidence {res.evidence.score:.1f} (rule: scam when score >= threshold and "
        f"evidence >= {clf.rule.with_score}, or a brand/risky indicator and evidence >= "
        f"{clf.rule.alone})",
        highlight=False,
    )
    if res.evidence.cues:
        console.print("cues: " + ", ".join(res.evidence.cues), highlight=False)
    if res.indicators:
        table = Table("indicator", "value", "detail", "risk")
        for ind in res.indicators:
            table.add_row(str(ind.kind), ind.value, ind.detail, f"{ind.risk:.2f}")
        console.print(table)
    if res.fraud_types:
        label = "fraud types" if str(res.verdict) == "scam" else "closest fraud types"
        console.print(
            f"{label}: "
            + "; ".join(
                f"{t.code} {t.name_en} ({t.score:.2f}: {', '.join(t.cues)})"
                for t in res.fraud_types
            ),
            highlight=False,
        )
    table = Table("n-gram", "log-odds contribution")
    for name, c in res.top_features:
        table.add_row(name, f"{c:+.3f}")
    console.print(table)


_POSITIVE = {"1", "spam", "scam", "fraud", "true", "yes", "junk"}
_NEGATIVE = {"0", "ham", "ok", "normal", "false", "no", "legit"}


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
) -> None:
    """Retrain the SMS model on your own labelled messages (spam/scam/1 vs ham/ok/0)."""
    _require_inspection()
    if not input.is_file():
        raise InvalidInputError(f"no such file: {input}")
    fmt = _detect_format(input, fmt)
    quarantine: list[MalformedRecordError] = []
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    dupes = 0
    with _open_rows(input, fmt, text_column, quarantine) as (_, rows):
        for row in rows:
            raw_label = str(row.fields.get(label_column, "")).strip().lower()
            if raw_label in _POSITIVE:
                y = 1
            elif raw_label in _NEGATIVE:
                y = 0
            else:
                quarantine.append(MalformedRecordError(row.line, f"unknown label {raw_label!r}"))
                continue
            text = str(row.fields[text_column])
            if text in seen:
                dupes += 1
                continue
            seen.add(text)
            texts.append(text)
            labels.append(y)
    started = time.perf_counter()
    with console.status(f"training on {len(texts)} messages"):
        model = fit_model(
            texts,
            labels,
            c=c,
            meta={
                "trained_on": [str(input.name)],
                "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
    save_model(model, output)
    elapsed = time.perf_counter() - started
    console.print(
        f"read {len(texts) + dupes + len(quarantine)} rows = used {len(texts)} + duplicates "
        f"{dupes} + quarantined {len(quarantine)}; threshold {model.threshold_:.2f} "
        f"(inner 3-fold CV); trained in {elapsed:.1f} s -> {output}"
    )
    for q in quarantine[:10]:
        err_console.print(f"quarantined line {q.line}: {q.reason}")


@app.command("train-default")
def train_default(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Shared data folder (default: $TELEWARDEN_SHARED_DATA or ../shared/data)."
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")] = _ROOT
    / "src"
    / "telewarden"
    / "data"
    / "sms"
    / "default_model.npz",
) -> None:
    """Rebuild the shipped model from zh_sms and uci_sms (the only sets that allow it)."""
    root = _shared_data(data)
    sets = _spam_sets(root)
    started = time.perf_counter()
    with console.status("training the shipped model on zh_sms + uci_sms"):
        model = _full_model(sets)
    model.meta.update(
        {
            "trained_on": {
                "zh_sms": "ZPdesu/Spam-Message-Classifier-sklearn @ bb6d82df (first 10k of the "
                "800k labelled set, minus the holdout); no licence stated, source named",
                "uci_sms": "UCI SMS Spam Collection (Almeida, Gomez Hidalgo, Yamakami, DocEng "
                "2011), CC BY 4.0",
            },
            "n_by_set": {name: len(t) for name, (t, _) in sets.items()},
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "telewarden sms train-default",
        }
    )
    save_model(model, output)
    console.print(
        f"trained on {model.meta['n_train']} messages ({model.meta['n_positive']} spam) in "
        f"{time.perf_counter() - started:.0f} s; threshold {model.threshold_:.2f}; "
        f"{output.stat().st_size / 1e6:.1f} MB -> {output}"
    )


def _spam_sets(root: Path) -> dict[str, tuple[list[str], list[int]]]:
    zh_path = root / "zh_sms" / "zh_sms.tsv"
    uci_path = root / "uci_sms" / "SMSSpamCollection.tsv"
    for p in (zh_path, uci_path):
        if not p.is_file():
            raise InvalidInputError(f"missing {p}: pass --data or set TELEWARDEN_SHARED_DATA")
    from telewarden.core.sms.evaluation import dedupe

    zl, zt = _read_tsv(zh_path)
    ul, ut = _read_tsv(uci_path)
    zt, zl, _ = dedupe(zt, zl)
    ut, ul, _ = dedupe(ut, ul)
    return {
        "zh_sms": (zt, [int(v) for v in zl]),
        "uci_sms": (ut, [1 if v == "spam" else 0 for v in ul]),
    }


# -- evaluation ---------------------------------------------------------------------------


def _shared_data(data: Path | None) -> Path:
    if data is not None:
        return data
    env = os.environ.get("TELEWARDEN_SHARED_DATA")
    return Path(env) if env else _ROOT.parent / "shared" / "data"


def _read_tsv(path: Path) -> tuple[list[str], list[str]]:
    labels: list[str] = []
    texts: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            if len(row) >= 2:
                labels.append(row[0])
                texts.append("\t".join(row[1:]))
            elif len(row) == 1:
                labels.append(row[0])
                texts.append("")
    return labels, texts


def _read_csv_columns(path: Path, *cols: str, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        rows = list(reader)
    return [[r[c] or "" for r in rows] for c in cols]


def write_eval_block(doc: Path, body: str) -> None:
    """Replace only the ``eval-sms`` block of ``doc`` with ``body``."""
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- BEGIN eval-sms[^\n]*-->\n)(.*?)(<!-- END eval-sms -->)", re.DOTALL)
    if not pattern.search(text):
        raise ConfigurationError(f"{doc}: no eval-sms block markers")
    doc.write_text(
        pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(3), text, count=1),
        encoding="utf-8",
    )


def eval_sms(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Shared data folder (default: $TELEWARDEN_SHARED_DATA or ../shared/data)."
        ),
    ] = None,
    doc: Annotated[Path, typer.Option(help="Evaluation document to update.")] = _ROOT
    / "docs"
    / "evaluation.md",
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    write: Annotated[bool, typer.Option(help="Rewrite the eval-sms block of --doc.")] = True,
    quick: Annotated[
        bool, typer.Option(help="Skip the slow fraud-type research models (for smoke runs).")
    ] = False,
) -> None:
    """Reproduce the SMS evaluation figures and write them into docs/evaluation.md."""
    from telewarden.core.sms.evaluation import (
        CharSvmGrid,
        binary_metrics,
        class_shares,
        dedupe,
        joint_cross_validate,
        lenient_macro_f1,
        macro_f1,
        multiclass_cross_validate,
        nested_select,
    )

    root = _shared_data(data)
    zh_path = root / "zh_sms" / "zh_sms.tsv"
    uci_path = root / "uci_sms" / "SMSSpamCollection.tsv"
    ft_path = root / "fraud_texts_zh" / "fraud_texts_5class.csv"
    fn_path = root / "fraud_news_zh" / "fraud_news_reports.csv"
    for p in (zh_path, uci_path):
        if not p.is_file():
            raise InvalidInputError(f"missing {p}: pass --data or set TELEWARDEN_SHARED_DATA")
    started = time.perf_counter()
    lines: list[str] = []
    cmd = "telewarden eval sms" + (f" --folds {folds}" if folds != 5 else "")
    lines.append(f"Command: `{cmd}` ({dt.datetime.now(dt.UTC).date().isoformat()}).\n")

    zl, zt = _read_tsv(zh_path)
    ul, ut = _read_tsv(uci_path)
    zt, zl, zd = dedupe(zt, zl)
    ut, ul, ud = dedupe(ut, ul)
    sets = {
        "zh_sms": (zt, [int(v) for v in zl]),
        "uci_sms": (ut, [1 if v == "spam" else 0 for v in ul]),
    }
    with console.status(f"joint {folds}-fold CV of the shipped protocol"):
        proba, pred, models = joint_cross_validate(sets, folds=folds)
    lines.append(
        "### Spam detection (shipped protocol)\n\n"
        f"{folds}-fold stratified CV, texts deduplicated before splitting (zh_sms: {zd} duplicate "
        f"rows dropped, uci_sms: {ud}); each fold trains ONE model on the training parts of both "
        "sets (hashed char 1-4-gram and Latin word 1-2-gram TF-IDF of the normalised, folded text, "
        "with separate feature blocks for messages with and without Chinese characters plus a "
        "shared block, links replaced by one token; linear "
        "SVM C=2, Platt-calibrated, one "
        "threshold per script by inner 3-fold CV) and tests on each set's held-out part. "
        "Positive = spam.\n"
    )
    lines.append("| set | n | spam | precision | recall | F1 | macro-F1 | goal | published |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    goals = {"zh_sms": "F1 >= 0.975", "uci_sms": "F1 >= 0.97, P >= 0.985"}
    published = {
        "zh_sms": "SVM on jieba words: F1 0.81, accuracy 0.964",
        "uci_sms": "linear SVM best in the paper (Almeida et al. 2011)",
    }
    results: dict[str, Any] = {}
    for name, (_, y) in sets.items():
        m = binary_metrics(y, pred[name])
        results[name] = m.to_dict()
        lines.append(
            f"| {name} | {m.n} | {m.n_positive} | {m.precision:.4f} | {m.recall:.4f} | "
            f"{m.f1:.4f} | {m.macro_f1:.4f} | {goals[name]} | {published[name]} |"
        )
    thr = ", ".join(
        f"{m.cjk_threshold_:.2f} / {m.threshold_:.2f}"
        if m.cjk_threshold_ is not None
        else f"{m.threshold_:.2f}"
        for m in models
    )
    lines.append(f"\nFold thresholds chosen by inner CV (Chinese / Latin): {thr}.\n")

    # The same protocol with Chinese sentence punctuation kept: zh_sms's ham has none at all,
    # so this variant scores higher on the set and calls Chinese chats with commas spam.
    import numpy as np

    from telewarden.core.sms.classifier import FeatureConfig, prepare

    kept = FeatureConfig(
        word_ngrams=(1, 2),
        split_by_script=True,
        cjk_punctuation=True,
        shared_block=True,
        url_token=True,
        latin_code_fold=True,
    )
    with console.status("the same CV with Chinese punctuation kept"):
        _, pred_kept, kept_models = joint_cross_validate(sets, folds=folds, config=kept)
    chat = [
        "妈，我今晚不回家吃饭了，记得给猫喂食",
        "好的，明天见，记得带伞",
        "老婆，我到公司了，中午一起吃饭吗？",
        "爸，周末我们去看爷爷，你几点有空？",
    ]
    chat_flags = [
        int(np.sum(m.score_many(chat) >= m.thresholds_for([prepare(t) for t in chat])))
        for m in (models[0], kept_models[0])
    ]
    shares = class_shares(*sets["zh_sms"], _ZH_ARTEFACTS)
    lines.append(
        "How zh_sms was gathered shows in what its two classes contain (share of ham / of "
        "spam messages with each):\n"
    )
    lines.append("| in the message | ham | spam |")
    lines.append("|---|---|---|")
    for label, (ham, spam) in shares.items():
        lines.append(f"| {label} | {ham:.1%} | {spam:.1%} |")
    lines.append(
        "\nIts ham messages are sentence fragments, not chats, and its spam had its digits "
        "masked as `x` while much of its ham kept them; the model reads masked and plain "
        "digits alike (both fold to `0`). Chinese sentence punctuation: the shipped model "
        "drops it and spaces "
        "from messages with Chinese characters (brackets such as 【】 stay); the same protocol "
        "with them kept scores higher on zh_sms by learning that a comma means spam:\n"
    )
    lines.append("| variant | set | precision | recall | F1 |")
    lines.append("|---|---|---|---|---|")
    for label, preds in (("shipped (punctuation dropped)", pred), ("punctuation kept", pred_kept)):
        for name, (_, y) in sets.items():
            m = binary_metrics(y, preds[name])
            lines.append(f"| {label} | {name} | {m.precision:.4f} | {m.recall:.4f} | {m.f1:.4f} |")
    lines.append(
        f"\nFour plain Chinese family messages with commas (e.g. `{chat[0]}`), scored by fold 1's "
        f"model: flagged {chat_flags[0]} of 4 by the shipped variant, {chat_flags[1]} of 4 with "
        "punctuation kept.\n"
    )

    # Messages of other countries and years than the training data (written by the project).
    shipped = _full_model(sets)
    clf = _new_classifier(shipped)
    check_labels, check_texts = _read_csv_columns(_CHECK_SET, "label", "text", delimiter="\t")
    check = clf.classify_many(check_texts)
    counts = {(lab, v): 0 for lab in ("spam", "ham") for v in ("ok", "spam", "scam")}
    for lab, r in zip(check_labels, check, strict=True):
        counts[(lab, str(r.verdict))] += 1
    n_spam, n_ham = check_labels.count("spam"), check_labels.count("ham")
    lines.append(
        "### Messages from other countries and years (generalisation check)\n\n"
        f"The model trained on all of zh_sms + uci_sms (the shipped one), on the {n_spam} spam "
        f"and {n_ham} ham English messages of `{_CHECK_SET.name}` (package data): the parcel, "
        "toll, bank, refund, KYC, job and crypto lures of 2021-2025 in the US, the UK, "
        "Australia, India and Singapore, against OTP codes, bank and delivery notices and "
        "chats of the same places. The project wrote them in the style of those waves (they "
        "are no benchmark, and nothing is trained on them); they show what a 2011 "
        "training set does not teach.\n"
    )
    lines.append("| message | ok | spam | scam |")
    lines.append("|---|---|---|---|")
    for lab in ("spam", "ham"):
        lines.append(
            f"| {lab} | {counts[(lab, 'ok')]} | {counts[(lab, 'spam')]} | {counts[(lab, 'scam')]} |"
        )
    wrong = [
        f"`{t[:60]}{'...' if len(t) > 60 else ''}` ({r.verdict})"
        for lab, t, r in zip(check_labels, check_texts, check, strict=True)
        if lab == "ham" and str(r.verdict) != "ok"
    ]
    lines.append(
        "\nLegitimate messages not called ok: "
        + ("; ".join(wrong) if wrong else "none")
        + ". In uci_sms amounts, account digits and reply keywords are spam cues (prices, "
        "premium-rate numbers, opt-out lines); one-time codes of 4-6 digits are not "
        "(`FeatureConfig.latin_code_fold`). A carrier's own labelled messages "
        "(`telewarden sms train`) and its registry of enterprise senders (the allow list) "
        "are what stop such notices being labelled.\n"
    )
    results["check_en_modern"] = {f"{a}_{b}": v for (a, b), v in counts.items()}

    # The scam rule against fraud_texts_zh (evaluation only: the shipped model never saw it).
    if ft_path.is_file():
        fl, ftx = _read_csv_columns(ft_path, "label", "text")
        ftx, fl, fd = dedupe(ftx, fl)
        with console.status("shipped classifier on fraud_texts_zh"):
            res = clf.classify_many(ftx)
        y_fraud = [0 if v == "normal" else 1 for v in fl]
        scam = [1 if str(r.verdict) == "scam" else 0 for r in res]
        notok = [1 if str(r.verdict) != "ok" else 0 for r in res]
        ms = binary_metrics(y_fraud, scam)
        mn = binary_metrics(y_fraud, notok)
        normal_verdicts = {v: 0 for v in ("ok", "spam", "scam")}
        for r, yv in zip(res, y_fraud, strict=True):
            if not yv:
                normal_verdicts[str(r.verdict)] += 1
        lines.append(
            "### Scam rule on fraud_texts_zh (evaluation only)\n\n"
            f"The model trained on all of zh_sms + uci_sms, applied to fraud_texts_zh "
            f"({len(ftx)} texts after dropping {fd} duplicates; positive = the 4 fraud classes, "
            "negative = `normal`, which are real carrier and bank notices and marketing).\n"
        )
        lines.append("| prediction counted as fraud | precision | recall | F1 |")
        lines.append("|---|---|---|---|")
        lines.append(f"| verdict `scam` | {ms.precision:.4f} | {ms.recall:.4f} | {ms.f1:.4f} |")
        lines.append(
            f"| verdict `scam` or `spam` | {mn.precision:.4f} | {mn.recall:.4f} | {mn.f1:.4f} |"
        )
        lines.append(
            f"\n`normal` texts got: ok {normal_verdicts['ok']}, spam {normal_verdicts['spam']}, "
            f"scam {normal_verdicts['scam']}.\n"
        )
        results["fraud_texts_scam_rule"] = {"scam": ms.to_dict(), "not_ok": mn.to_dict()}

        # Fraud types: research model (CV) and the shipped lexicon typer.
        typ_t = [t for t, lab in zip(ftx, fl, strict=True) if lab != "normal"]
        typ_y = [lab for lab in fl if lab != "normal"]
        typer_ = FraudTyper()
        lex = _lexicon_predict(typer_, typ_t, DATASET_LABELS["fraud_texts_zh"])
        lex_f1 = round(macro_f1(typ_y, lex), 4)
        line = f"| fraud_texts_zh (4 types, {len(typ_t)} texts) | "
        if not quick:
            with console.status("research model on fraud_texts_zh"):
                _, strict_f1, _ = multiclass_cross_validate(
                    typ_t, typ_y, folds=folds, c_grid=_C_GRID
                )
            line += f"{strict_f1:.4f} | - | {lex_f1:.4f} | >= 0.98 | RoBERTa-MHARC F1 0.9810 |"
        else:
            line += f"(skipped) | - | {lex_f1:.4f} | >= 0.98 | RoBERTa-MHARC F1 0.9810 |"
        type_lines = [line]
        results["fraud_texts_types_lexicon_macro_f1"] = lex_f1
    else:
        type_lines = [f"| fraud_texts_zh | missing at {ft_path} | | | | |"]

    news_picks: str | None = None
    if fn_path.is_file():
        q, titles, bodies = _read_csv_columns(fn_path, "query_type", "title", "body")
        by_title: dict[str, set[str]] = {}
        for qt, ti in zip(q, titles, strict=True):
            if qt != "诈骗":
                by_title.setdefault(ti, set()).add(qt)
        multi = sum(1 for s in by_title.values() if len(s) > 1)
        nt: list[str] = []
        nt_titles: list[str] = []
        nb: list[str] = []
        ny: list[str] = []
        ng: list[frozenset[str]] = []
        seen: set[str] = set()
        for qt, ti, bo in zip(q, titles, bodies, strict=True):
            if qt == "诈骗" or ti in seen:
                continue
            seen.add(ti)
            nt_titles.append(ti)
            nb.append(bo)
            nt.append(ti + "\n" + bo)
            ny.append(qt)
            ng.append(frozenset(by_title[ti]))
        typer_ = FraudTyper()
        lex = _lexicon_predict(typer_, nt, DATASET_LABELS["fraud_news_zh"])
        lex_f1 = round(macro_f1(ny, lex), 4)
        lex_len = round(lenient_macro_f1(ny, lex, ng), 4)
        if not quick:
            # The document is the title repeated w times, then the body (a title is a dense
            # summary of the case). The headline row chooses w and C together by nested CV;
            # the fixed w=1 and w=2 rows choose only C the same way and are kept for
            # comparison (w=2 was first picked by comparing on the test folds).
            reps = {
                f"title x{w}": [
                    "\n".join([ti] * w + [bo]) for ti, bo in zip(nt_titles, nb, strict=True)
                ]
                for w in _TITLE_WEIGHTS
            }
            with console.status("counting fraud_news_zh n-grams"):
                grid = CharSvmGrid(reps, ny)
            rows = [
                (
                    "title weight and C chosen by nested CV (headline)",
                    [(r, c) for r in reps for c in _C_GRID],
                ),
                ("title + body, C by nested CV", [("title x1", c) for c in _C_GRID]),
                (
                    "title x2 + body, C by nested CV (weight picked on the test folds)",
                    [("title x2", c) for c in _C_GRID],
                ),
            ]
            for label, options in rows:
                with console.status(f"research model on fraud_news_zh ({label})"):
                    sel = nested_select(ny, options, grid, folds=folds, inner_folds=3)
                strict_f1 = round(macro_f1(ny, sel.predictions), 4)
                lenient = round(lenient_macro_f1(ny, sel.predictions, ng), 4)
                type_lines.append(
                    f"| fraud_news_zh (12 types, {len(nt)} unique titles), {label} | "
                    f"{strict_f1:.4f} | {lenient:.4f} | {lex_f1:.4f} / {lex_len:.4f} | >= 0.88 | "
                    "none published; plain char n-gram linear ~0.86 |"
                )
                results[f"fraud_news_research_{label}"] = {"strict": strict_f1, "lenient": lenient}
                if news_picks is None:
                    news_picks = "; ".join(
                        f"fold {k + 1}: {r}, C={c:g} (inner {s[(r, c)]:.4f})"
                        for k, ((r, c), s) in enumerate(
                            zip(sel.chosen, sel.inner_scores, strict=True)
                        )
                    )
        else:
            type_lines.append(f"| fraud_news_zh | (skipped) | | {lex_f1:.4f} | >= 0.88 | |")
        results["fraud_news_lexicon"] = {"strict": lex_f1, "lenient": lex_len}
        news_note = (
            f"fraud_news_zh: the generic query `诈骗` is dropped (it names no type); rows are "
            f"deduplicated by title, keeping the first query a title was found under; {multi} "
            "titles appear under more than one of the 12 types. *Strict* scores the kept label "
            "only; *lenient* also accepts any other query the same title was found under "
            "(the label is the search query, not an annotation, so both are reported). "
            "Document: the title written 1, 2 or 3 times (`title x1` to `title x3`), then the "
            "body. The headline row chooses the title weight and C together among 12 "
            "candidates by the nested CV above; the other two rows fix the weight and choose "
            "only C. Title x2 was first adopted after comparing weights on the outer test "
            "folds, so its row is for comparison only: quote the headline row."
        )
        if news_picks is not None:
            news_note += f" Headline choice per outer fold (inner macro-F1): {news_picks}."
    else:
        news_note = f"fraud_news_zh missing at {fn_path}."
    lines.append(
        "### Fraud types (evaluation only)\n\n"
        "Research model: char 1-4 TF-IDF (the 300k most frequent n-grams of the training part) "
        "+ linear SVM (one-vs-rest) trained inside each fold of a "
        f"{folds}-fold CV on the set itself (allowed for evaluation, never shipped). Its "
        "settings are chosen by nested CV: inside each outer fold, the training part alone is "
        "split into 3 stratified inner folds; each candidate setting is fitted (vocabulary, "
        "IDF and SVM) on two inner folds and predicts the third, the candidate with the best "
        "strict macro-F1 over the three inner folds is refitted on the whole training part, "
        "and only then predicts the outer test fold, which takes no part in the choice. "
        "Candidates: C in {0.1, 0.3, 1, 3}; on fraud_news_zh's headline row also the "
        "title weight (below). Shipped "
        "typer: the hand-written lexicon of `fraud_types_data.py`, zero-shot (top-ranked type "
        "mapped to the set's labels; no type = wrong).\n"
    )
    lines.append(
        "| set | research macro-F1 (strict) | research (lenient) | shipped lexicon macro-F1 "
        "(strict / lenient) | goal | published |"
    )
    lines.append("|---|---|---|---|---|---|")
    lines.extend(type_lines)
    lines.append("\n" + news_note + "\n")
    elapsed = time.perf_counter() - started
    lines.append(f"Run time: {elapsed:.0f} s on the project machine (n_jobs=1).")
    body = "\n".join(lines)
    console.print(body, highlight=False)
    if write:
        write_eval_block(doc, body)
        console.print(f"wrote the eval-sms block of {doc}")


_C_GRID = (0.1, 0.3, 1.0, 3.0)
_TITLE_WEIGHTS = (1, 2, 3)
_ZH_ARTEFACTS = {
    "full-width comma `，`": "，",
    "full-width full stop `。`": "。",
    "full-width exclamation mark `！`": "！",
    "a plain digit": "[0-9]",
    "a masked digit run `xxx`": "x{3,}",
    "more than 30 characters": r"^[\s\S]{31}",
}
_CHECK_SET = Path(__file__).resolve().parents[1] / "data" / "sms" / "check_en_modern.tsv"


def _full_model(sets: dict[str, tuple[list[str], list[int]]]) -> SmsModel:
    texts = [t for ts, _ in sets.values() for t in ts]
    labels = [y for _, ys in sets.values() for y in ys]
    return fit_model(texts, labels)


def _lexicon_predict(
    typer_: FraudTyper, texts: list[str], mapping: dict[str, str | None]
) -> list[str]:
    """Map the top-ranked taxonomy code among the set's codes back to the set's label."""
    code_to_label = {code: label for label, code in mapping.items() if code}
    sub = {c: typer_.taxonomy[c] for c in code_to_label}
    restricted = FraudTyper(sub, min_raw=0.1)
    out: list[str] = []
    for t in texts:
        ranked = restricted.rank(t, top_k=1)
        out.append(code_to_label[ranked[0].code] if ranked else "(none)")
    return out
