"""The live loop's columnar early-warning pieces give what the record-by-record ones give.

``contacts_frame`` against ``call_contacts``/``sms_contacts`` one record at a time,
``ExposureIndex.add_frame`` against ``add`` one contact at a time (ties at the latest moment
included: the last record is the last row among them), and ``NAMING_HINT``, the column filter
in front of ``text_subjects``, against ``text_subjects`` itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telewarden.core.warning.contact_frame import contacts_frame, contacts_of_rows
from telewarden.core.warning.exposure import (
    NAMING_HINT,
    Contact,
    ContactKind,
    ExposureIndex,
    call_contacts,
    sms_contacts,
    text_subjects,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
SUBSCRIBERS = [f"+86138000000{i:02d}" for i in range(8)]
OTHERS = ["+8617100000001", "+23225848160", "95588", "106900001111"]
TEXTS = [
    None,
    "",
    "hi",
    "余额347.6元。",
    "pay at www.Scam-pay.cn now",
    "see http://etc-renz.com/rz and ETC-renz.com",
    "转账到 TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC 或 a.bc.de",
    "x.ſs and K.cn",
]


def _records(seed: int, n: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows: list[tuple[object, ...]] = []
    for k in range(n):
        at = T0 + dt.timedelta(seconds=rng.choice([0, 0, 5, 60]) * (k // 3))
        caller = rng.choice(SUBSCRIBERS + OTHERS)
        callee = rng.choice(SUBSCRIBERS + OTHERS[:2])
        if rng.random() < 0.3:
            rows.append(("sms", at, caller, callee, None, None, None, None, rng.choice(TEXTS), k))
            continue
        answered = rng.random() < 0.5
        rows.append(
            (
                "call",
                at,
                caller,
                callee,
                rng.choice(["international", "domestic", None]),
                rng.choice([None, 0, 3, 20]),
                rng.choice([None, 0, 45, 900]) if answered else 0,
                answered,
                None,
                k,
            )
        )
    return pl.DataFrame(
        rows,
        schema=["channel", "at", "caller", "callee", "ingress", "ring_s", "duration_s",
                "answered", "text", "record_id"],
        orient="row",
    ).with_columns(pl.col("at").dt.cast_time_unit("us"))  # fmt: skip


def _one_by_one(records: pl.DataFrame) -> list[Contact]:
    out: list[Contact] = []
    is_subscriber = set(SUBSCRIBERS).__contains__
    for row in records.iter_rows():
        channel, at, caller, callee, ingress, ring, duration, answered, text, rid = row
        if channel == "call":
            out += call_contacts(
                rid, caller, callee, at, ring, duration, bool(answered), is_subscriber, ingress
            )
        else:
            out += sms_contacts(rid, caller, callee, at, text, is_subscriber)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("given_as", ["callable", "series"])
def test_contacts_frame_gives_the_record_by_record_contacts_in_order(
    seed: int, given_as: str
) -> None:
    records = _records(seed, 300)
    members = (
        set(SUBSCRIBERS).__contains__
        if given_as == "callable"
        else pl.Series(SUBSCRIBERS, dtype=pl.String)
    )
    frame = contacts_frame(records, members)
    expected = _one_by_one(records)
    assert any(c.kind is ContactKind.LINK for c in expected)
    assert contacts_of_rows(frame) == expected


@pytest.mark.parametrize("seed", range(6))
def test_add_frame_summarises_as_adding_each_contact_in_order(seed: int) -> None:
    rng = random.Random(seed)
    kinds = list(ContactKind)
    # Few moments, so pairs often have several contacts at their latest one.
    moments = [T0 + dt.timedelta(minutes=m) for m in (0, 1, 1, 2)]
    contacts = [
        Contact(
            rng.choice(SUBSCRIBERS[:3]),
            rng.choice(OTHERS),
            kind,
            rng.choice(moments),
            rng.choice([0, 30, 600]),
            rng.choice(["call", "sms"]),
            k,
        )
        for k in range(200)
        for kind in [rng.choice(kinds)]
    ]
    by_one, columnar = ExposureIndex(dt.timedelta(days=3)), ExposureIndex(dt.timedelta(days=3))
    for contact in contacts:
        by_one.add(contact)
    columnar.add_frame(contacts_frame_of(contacts))

    def summaries(index: ExposureIndex) -> dict[tuple[str, str], tuple[object, ...]]:
        index.warm(list(index._cold_subjects))
        return {
            (subject, msisdn): dataclasses.astuple(summary)
            for subject, pairs in index._by_subject.items()
            for msisdn, summary in pairs.items()
        }

    assert summaries(columnar) == summaries(by_one)
    # Pairs are first met in the same order (what iterating the index would show).
    assert [list(p) for p in columnar._by_subject.values()] == [
        list(p) for p in by_one._by_subject.values()
    ]


def contacts_frame_of(contacts: list[Contact]) -> pl.DataFrame:
    from telewarden.core.warning.contact_frame import CONTACT_FRAME_SCHEMA

    return pl.DataFrame(
        {
            "_seq": list(range(len(contacts))),
            "msisdn": [c.msisdn for c in contacts],
            "subject": [c.subject for c in contacts],
            "kind": [c.kind.value for c in contacts],
            "known_at": [c.known_at for c in contacts],
            "duration_s": [c.duration_s for c in contacts],
            "record_kind": [c.record_kind for c in contacts],
            "record_id": [c.record_id for c in contacts],
        },
        schema=CONTACT_FRAME_SCHEMA,
    )


_TEXT_ALPHABET = st.sampled_from(
    list("abcxyzTKk019.-/: 元转") + ["\u0130", "\u0131", "\u017f", "\u212a", "www.", "http://"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT_ALPHABET, max_size=40).map("".join))
def test_every_text_that_names_something_matches_the_naming_hint(text: str) -> None:
    hinted = pl.Series([text]).str.contains(NAMING_HINT).item()
    assert hinted or not text_subjects(text)


@pytest.mark.parametrize(
    "text",
    [
        "pay at www.Scam-pay.cn now",
        "x.ſs",
        "\u0131.co",
        "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC",
        "0x" + "a" * 40,
        "bc1" + "q" * 30,
    ],
)
def test_the_naming_hint_lets_hosts_and_wallets_through(text: str) -> None:
    assert text_subjects(text)
    assert pl.Series([text]).str.contains(NAMING_HINT).item()


def test_the_naming_hint_leaves_out_plain_amounts() -> None:
    texts = ["您尾号4751的储蓄卡支出人民币59.3元", "hi", "a.b"]
    assert not any(text_subjects(t) for t in texts)
    assert not any(pl.Series(texts).str.contains(NAMING_HINT).to_list())
