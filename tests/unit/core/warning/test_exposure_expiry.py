"""The exposure index forgets pairs past their look-back, and forgetting changes no answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import polars as pl
import pytest

from telewarden.core.warning.contact_frame import CONTACT_FRAME_SCHEMA
from telewarden.core.warning.exposure import Contact, ContactKind, ExposureIndex

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
LOOKBACK = dt.timedelta(days=3)
KINDS = list(ContactKind)


def _contact(
    msisdn: str, subject: str, at: dt.datetime, kind: ContactKind, record_id: int = 1
) -> Contact:
    duration = (
        60 + record_id % 600 if kind in (ContactKind.ANSWERED_CALL, ContactKind.CALLBACK) else 0
    )
    record_kind = "sms" if kind in (ContactKind.SMS, ContactKind.LINK) else "call"
    return Contact(msisdn, subject, kind, at, duration, record_kind, record_id)


def _frame(contacts: list[Contact]) -> pl.DataFrame:
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


def test_a_contact_after_the_lookback_starts_a_new_summary_on_both_paths() -> None:
    old = _contact("+8613800000001", "+8617000000000", T0, ContactKind.ANSWERED_CALL)
    near = _contact("+8613800000001", "+8617000000000", T0 + dt.timedelta(days=2),
                    ContactKind.MISSED_CALL)  # fmt: skip
    far = _contact("+8613800000001", "+8617000000000", T0 + dt.timedelta(days=6),
                   ContactKind.SMS)  # fmt: skip
    by_record = ExposureIndex(LOOKBACK)
    for contact in (old, near, far):
        by_record.add(contact)
    columnar = ExposureIndex(LOOKBACK)
    for contact in (old, near, far):
        columnar.add_frame(_frame([contact]))
    for index in (by_record, columnar):
        summary = index.summary("+8617000000000", "+8613800000001")
        assert summary is not None
        # The third contact comes four days after the second: strangers again.
        assert (summary.contacts, summary.sms, summary.answered_calls) == (1, 1, 0)
        assert summary.first_at == far.known_at


def test_pruning_keeps_the_older_pieces_of_a_pair_still_in_touch() -> None:
    index = ExposureIndex(LOOKBACK)
    for days in (0, 2):  # two batches, never asked about: both pieces stay columnar
        index.add_frame(_frame([_contact("+8613800000001", "+8617000000000",
                                         T0 + dt.timedelta(days=days), ContactKind.MISSED_CALL)]))  # fmt: skip
    index.add_frame(_frame([_contact("+8613800000002", "+8617000000009", T0,
                                     ContactKind.SMS)]))  # fmt: skip
    # The quiet pair goes; the two pieces of the pair in touch fold into one.
    assert index.prune(T0 + dt.timedelta(days=3, hours=12)) == 2
    assert sum(frame.height for frame in index._cold) == 1
    summary = index.summary("+8617000000000", "+8613800000001")
    assert summary is not None and summary.missed_calls == 2
    assert index.summary("+8617000000009", "+8613800000002") is None


def test_pruning_folds_a_pairs_pieces_as_a_warm_would() -> None:
    days = (0, 1, 5, 5.5, 5.75)
    kinds = (ContactKind.ANSWERED_CALL, ContactKind.SMS, ContactKind.MISSED_CALL,
             ContactKind.ANSWERED_CALL, ContactKind.LINK)  # fmt: skip
    pruned, kept = ExposureIndex(LOOKBACK), ExposureIndex(LOOKBACK)
    for k, (day, kind) in enumerate(zip(days, kinds, strict=True)):
        contact = _contact("+8613800000001", "+8617000000000", T0 + dt.timedelta(days=day),
                           kind, record_id=100 + k)  # fmt: skip
        for index in (pruned, kept):
            index.add_frame(_frame([contact]))
    pruned.prune(T0 + dt.timedelta(days=5, hours=20))
    assert sum(frame.height for frame in pruned._cold) == 1
    folded = pruned.summary("+8617000000000", "+8613800000001")
    assert folded == kept.summary("+8617000000000", "+8613800000001")
    assert folded is not None
    # Days 0 and 1 are more than the look-back before day 5: the pair started again there.
    assert (folded.missed_calls, folded.answered_calls, folded.links, folded.sms) == (1, 1, 1, 0)
    assert (folded.last_record_id, folded.last_record_kind) == (104, "sms")


def _answers(index: ExposureIndex, subjects: list[str], now: dt.datetime) -> object:
    since = now - LOOKBACK
    return {
        subject: (
            sorted((m, dataclasses.astuple(s)) for m, s in index.exposed_to(subject, since=since)),
            index.has_subject(subject, since=since),
        )
        for subject in subjects
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pruning_at_any_cadence_changes_no_answer_and_bounds_the_index(seed: int) -> None:
    rng = random.Random(seed)
    subjects = [f"+8617{k:09d}" for k in range(40)]
    subscribers = [f"+8613{k:09d}" for k in range(30)]
    kept, pruned = ExposureIndex(LOOKBACK), ExposureIndex(LOOKBACK)
    now = T0
    dropped = 0
    for step in range(240):  # 20 days of two-hour batches
        now += dt.timedelta(hours=2)
        batch = [
            _contact(
                rng.choice(subscribers),
                rng.choice(
                    subjects[step // 8 : step // 8 + 10]
                ),  # later subjects join, early ones go quiet
                now + dt.timedelta(minutes=rng.randrange(120)),
                rng.choice(KINDS),
                rng.randrange(10**6),
            )
            for _ in range(rng.randrange(0, 20))
        ]
        batch.sort(key=lambda c: c.known_at)
        by_record = rng.random() < 0.1  # some batches go record by record (flagged subjects)
        for index in (kept, pruned):
            if by_record:
                for contact in batch:
                    index.add(contact)
            else:
                index.add_frame(_frame(batch))
        if rng.random() < 0.2:
            asked = rng.sample(subjects, 3)
            assert _answers(pruned, asked, now) == _answers(kept, asked, now)
        if rng.random() < 0.25:
            dropped += pruned.prune(now)
    assert dropped > 0, "the run must be long enough for pairs to expire"
    assert _answers(pruned, subjects, now) == _answers(kept, subjects, now)
    assert len(pruned) < len(kept)
    horizon = now - LOOKBACK
    pruned.prune(now)
    assert all(
        s.last_at >= horizon for pairs in pruned._by_subject.values() for s in pairs.values()
    )
