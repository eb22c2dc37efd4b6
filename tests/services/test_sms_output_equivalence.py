"""The fast ``sms classify`` path writes what the previous code wrote, message for message.

Old code, kept here as the reference: ``json.dumps`` of the indicators per message, a regex
per TSV field, and every message of a batch classified on its own (no sharing of repeats).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.core import sms_reference as ref
from tests.unit.core.sms_reference import sms_texts

from telewarden.adapters.files.messages import MessageFormat, MessageWriter
from telewarden.core.sms.inspector import SmsClassifier, SmsResult
from telewarden.services.sms_classify import (
    RESULT_COLUMNS,
    ClassifierOptions,
    _expand,
    build_classifier,
)
from telewarden.services.sms_workers import classify_texts

SHIPPED = Path(__file__).resolve().parents[2] / "src/telewarden/data/sms/check_en_modern.tsv"
_OLD_TSV_CLEAN = re.compile(r"[\t\r\n]")


def _old_result_columns(result: SmsResult) -> dict[str, object]:
    return {
        "verdict": str(result.verdict),
        "score": round(result.score, 6),
        "fraud_types": ";".join(t.code for t in result.fraud_types),
        "indicators": json.dumps([i.to_dict() for i in result.indicators], ensure_ascii=False),
    }


def _old_tsv(header: list[str], rows: list[tuple[dict[str, str], dict[str, object]]]) -> str:
    added = [c for c in RESULT_COLUMNS if c not in header]
    lines = ["\t".join(_OLD_TSV_CLEAN.sub(" ", v) for v in [*header, *added])]
    for fields, extra in rows:
        merged = {**fields, **extra}
        values = [str(merged[c]) for c in header] + [str(extra[c]) for c in added]
        lines.append("\t".join(_OLD_TSV_CLEAN.sub(" ", v) for v in values))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def classifier() -> SmsClassifier:
    return build_classifier(ClassifierOptions())


def _shipped_texts() -> list[str]:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 2)[2] for line in lines if line.count("\t") >= 2]


def _check(clf: SmsClassifier, texts: list[str]) -> None:
    results = clf.classify_many(texts)
    assert results == ref.reference_classify_many(clf, texts)
    header = ["id", "text"]
    rows = [
        ({"id": str(i), "text": t}, _expand(c)[1])
        for i, (t, c) in enumerate(zip(texts, classify_texts(clf, texts), strict=True))
    ]
    old_rows = [
        ({"id": str(i), "text": t}, _old_result_columns(r))
        for i, (t, r) in enumerate(zip(texts, results, strict=True))
    ]
    assert [extra for _, extra in rows] == [extra for _, extra in old_rows]
    out = io.StringIO()
    writer = MessageWriter(out, MessageFormat.TSV, header, RESULT_COLUMNS)
    for fields, extra in rows:
        writer.write(fields, extra)
    assert out.getvalue() == _old_tsv(header, old_rows)


def test_shipped_messages_repeated_and_with_line_breaks_come_out_as_before(
    classifier: SmsClassifier,
) -> None:
    texts = _shipped_texts()
    assert len(texts) > 20
    # repeats (a campaign), and fields with tabs and line breaks the TSV writer must clean
    mixed = texts + texts[::3] + [t.replace(" ", "\t", 1) for t in texts[:5]] + ["a\r\nb", ""]
    _check(classifier, mixed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(sms_texts(), max_size=8).map(lambda ts: ts + ts[:3]))
def test_generated_messages_come_out_as_before(classifier: SmsClassifier, texts: list[str]) -> None:
    _check(classifier, texts)
