"""Early warning as the live loop's hook: flags and delivered events in event-time order.

:class:`LoopWarner` implements the loop's ``Warner`` protocol over the incremental early-warning
path (:class:`~telewarden.services.warning.EarlyWarning`): within a micro-batch it interleaves
the flags with the delivered calls and SMS by time, so a flag sees exactly the contacts made
before it (its look-back) and every later contact with a flagged number is judged as it comes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import polars as pl

from telewarden.core.ports import Flag
from telewarden.core.warning.contact_frame import contacts_frame, contacts_of_rows
from telewarden.core.warning.engine import WarningNotice
from telewarden.services.warning import EarlyWarning

__all__ = ["LoopWarner"]


def _record_id(position: str) -> int:
    """``calls:123`` -> 123 (any other position: its CRC-32, the same in every process)."""
    tail = position.rpartition(":")[2]
    return int(tail) if tail.isdigit() else zlib.crc32(position.encode())


_CONFIGURATION = ("is_subscriber", "subscribers", "age_bands", "risk_model", "keep_queue")


PRUNE_EVERY = dt.timedelta(hours=6)
"""How often (in event time) the exposure index forgets pairs past their look-back."""

PRUNE_MARGIN = dt.timedelta(days=1)
"""Pruning judges from this long before a batch's first event: a flag may name a moment
earlier than the batch it arrives in (a rule looking back over its window), and what it looks
back over must still be there."""


class LoopWarner:
    """Feeds the loop's flags and delivered events to early warning, in event time.

    Every ``PRUNE_EVERY`` of event time it prunes the exposure index, which keeps a run of
    weeks in bounded memory; pruning never changes a warning (see
    :meth:`~telewarden.core.warning.exposure.ExposureIndex.prune`), so when it happens is not
    part of the checkpointed state. A prune is due after a batch and runs on a helper thread
    while the loop screens and detects the next one (its Polars work releases the GIL); the
    next batch's warnings, a checkpoint and :meth:`settle` wait for it.
    """

    def __init__(self, early: EarlyWarning) -> None:
        self.early = early
        self._pruned_at: dt.datetime | None = None
        self.pruned = 0
        """Summaries the exposure index has forgotten so far in this process."""
        self._helper: ThreadPoolExecutor | None = None
        self._pruning: Future[int] | None = None

    def _prune(self, delivered: pl.DataFrame) -> None:
        """Start a prune when one is due, judged from this batch's last event: the next batch
        starts no earlier, so what it asks about is never pruned."""
        if not delivered.height:
            return
        last = delivered.get_column("at").max()
        if not isinstance(last, dt.datetime):
            return
        if self._pruned_at is None or last - self._pruned_at >= PRUNE_EVERY:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loop-prune")
            self._pruning = self._helper.submit(self.early.engine.index.prune, last - PRUNE_MARGIN)
            self._pruned_at = last

    def settle(self) -> None:
        """Wait for a prune under way (an error there is raised here)."""
        if self._pruning is not None:
            pruning, self._pruning = self._pruning, None
            self.pruned += pruning.result()

    def state(self) -> dict[str, Any]:
        """What early warning learnt (exposure index, flagged subjects, rate limits), to pickle.

        The engine's configuration (who is a subscriber, age bands, the risk model) is left
        out: a restarted worker builds it again.
        """
        self.settle()
        engine = vars(self.early.engine)
        return {
            "version": 1,
            "engine": {k: v for k, v in engine.items() if k not in _CONFIGURATION},
            "early": {k: vars(self.early)[k] for k in ("warnings", "deliveries", "refused")},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take over a state from :meth:`state` (after unpickling)."""
        if state.get("version") != 1:
            raise ValueError(f"unknown warning checkpoint version {state.get('version')!r}")
        self.settle()
        vars(self.early.engine).update(state["engine"])
        vars(self.early).update(state["early"])

    def on_batch(self, flags: Sequence[Flag], delivered: pl.DataFrame) -> list[WarningNotice]:
        """Warnings completed by this batch's flags and delivered events.

        The batch's contacts are computed on columns; those of subjects nobody has flagged
        (before or within the batch) are indexed in bulk, and only the others go one record at
        a time, interleaved with the flags by event time: the same warnings as
        :meth:`on_batch_by_record`, which takes every record one by one.
        """
        self.settle()
        early = self.early
        engine = early.engine
        pending = sorted(flags, key=lambda f: f.at)
        records = delivered.select(*_RECORD_COLUMNS).with_columns(record_ids(delivered))
        engine.counts.records += records.height
        members = engine.subscribers if engine.subscribers is not None else engine.is_subscriber
        contacts = contacts_frame(records, members)
        live = engine.index_unflagged(contacts, pending)
        out: list[WarningNotice] = []
        i = 0
        seqs = live.get_column("_seq").to_list()
        event_at = records.get_column("at").gather(seqs).to_list()
        found = contacts_of_rows(live)
        k = 0
        while k < len(found):
            j = k + 1
            while j < len(found) and seqs[j] == seqs[k]:
                j += 1
            at = event_at[k]
            while i < len(pending) and pending[i].at <= at:
                out += early.on_flag(pending[i])
                i += 1
            out += early.on_contacts(found[k:j])
            k = j
        while i < len(pending):
            out += early.on_flag(pending[i])
            i += 1
        self._prune(delivered)
        return out

    def on_batch_by_record(
        self, flags: Sequence[Flag], delivered: pl.DataFrame
    ) -> list[WarningNotice]:
        """:meth:`on_batch` one record at a time (the reference path, and the bench's baseline)."""
        self.settle()
        pending = sorted(flags, key=lambda f: f.at)
        out: list[WarningNotice] = []
        i = 0
        rows = delivered.select(*_RECORD_COLUMNS).iter_rows()
        for position, channel, at, caller, callee, ingress, ring, duration, answered, text in rows:
            while i < len(pending) and pending[i].at <= at:
                out += self.early.on_flag(pending[i])
                i += 1
            if channel == "call":
                out += self.early.on_call(
                    _record_id(position), caller, callee, at, ring, duration, bool(answered),
                    ingress,
                )  # fmt: skip
            else:
                out += self.early.on_sms(_record_id(position), caller, callee, at, text)
        while i < len(pending):
            out += self.early.on_flag(pending[i])
            i += 1
        return out


_RECORD_COLUMNS = (
    "position", "channel", "at", "caller", "callee", "ingress",
    "ring_s", "duration_s", "answered", "text",
)  # fmt: skip


def record_ids(events: pl.DataFrame) -> pl.Series:
    """:func:`_record_id` of every ``position``, on the column (CRC-32 only where needed)."""
    tail = events.get_column("position").str.split(":").list.last()
    ids = tail.cast(pl.Int64, strict=False).zip_with(
        tail.str.contains(r"^[0-9]+$").fill_null(False), pl.Series([None], dtype=pl.Int64)
    )
    missing = ids.is_null()
    if missing.any():
        fallback = [_record_id(p) for p in events.get_column("position").filter(missing)]
        ids = ids.scatter(missing.arg_true(), pl.Series(fallback, dtype=pl.Int64))
    return ids.alias("record_id")
