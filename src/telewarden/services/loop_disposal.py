"""Disposal as the live loop's hook: flags become cases and measures in event time.

:class:`LoopDisposal` implements the loop's ``Disposer`` protocol over the disposal use cases
(:class:`~telewarden.services.disposal.DisposalService`): every flag about one of the carrier's
cards is taken with its idempotency key at the flag's own time (the service's clock is moved to
it), the disposal policy puts its automatic measures in force, and the screener sees them at
once through a :class:`~telewarden.core.disposal.book.MeasureLookup` behind the
``card_measure`` rule. Flags about other numbers (off-net robocallers, Wangiri numbers abroad)
open no case, since they are another carrier's or nobody's cards: the lookup marks them
``flagged_off_net``, so their next call is blocked at the gateway and a subscriber's call back
to them (the Wangiri loss) is stopped too.

A partition worker (``telewarden.runners.live``) needs two things more, so that a worker killed
and restarted re-derives exactly the same measures: ids that depend on the loop's own history
(:class:`SequentialIds`, scoped by partition, in place of random ones), and its whole state in
its checkpoint (:meth:`LoopDisposal.state` and :meth:`LoopDisposal.restore`). A worker also
takes only the flags about the cards its partition owns (``owns``): a card's measures are then
decided by one worker, whatever other partition also sees the number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.core.disposal.book import MeasureBook, MeasureLookup
from telewarden.core.disposal.credit import id_key
from telewarden.core.disposal.model import Measure
from telewarden.core.disposal.ports import Card
from telewarden.core.ports import FixedClock, Flag
from telewarden.services.disposal import DisposalService, DisposalStore, IntakeReport
from telewarden.services.live_loop import flag_key

__all__ = ["LoopDisposal", "SequentialIds", "register_cards", "register_subscribers"]

_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class SequentialIds:
    """Case and measure ids counted per prefix within a scope: ``M-p3-000042``.

    Random ids would differ when a restarted worker re-derives a measure, and the broker could
    not recognise the second copy; counted ids follow from the loop's history alone, and the
    counters travel in the checkpoint with the rest of the disposal state.

    Examples
    --------
    >>> ids = SequentialIds("p3")
    >>> ids("C"), ids("M"), ids("M")
    ('C-p3-000001', 'M-p3-000001', 'M-p3-000002')
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.counts: dict[str, int] = {}

    def __call__(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        n = self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}-{self.scope}-{n:06d}"


class LoopDisposal:
    """Turns the loop's flags into cases and measures, and tells the screener about them."""

    def __init__(
        self,
        service: DisposalService,
        clock: FixedClock,
        lookup: MeasureLookup,
        *,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.lookup = lookup
        self.owns = owns

        self.intake = IntakeReport()
        self.measured_at: dict[str, dt.datetime] = {}
        self._seen: set[str] = set()

    @classmethod
    def over(
        cls,
        store: DisposalStore,
        *,
        owns: Callable[[str], bool] | None = None,
        **service_options: Any,
    ) -> LoopDisposal:
        """A hook over ``store`` with its own event-time clock, book and lookup.

        ``owns`` (a partition worker's): whether a flagged number is this partition's to
        dispose of; flags about other numbers are left to their own partition.
        """
        clock = FixedClock(_START)
        book = MeasureBook(store.measures_in_force())
        service = DisposalService(store, clock, book=book, **service_options)
        return cls(service, clock, MeasureLookup(book, _START), owns=owns)

    def state(self) -> dict[str, Any]:
        """Everything a restarted worker needs to go on deciding as this one would.

        The objects themselves (the case store, the measure book, the id counters, the
        lookup's fields), to be pickled together so that what they share stays shared; the
        disposal policy is configuration and comes from the restarted worker's own settings.
        The lookup is restored in place because the screener holds it.
        """
        store: Any = self.service.store
        return {
            "version": 1,
            # A store that can leave its card registry out does (MemoryDisposalStore).
            "store": store.state() if hasattr(store, "state") else store,
            "book": self.service.book,
            "clock_at": self.clock.at,
            "make_id": self.service.make_id if isinstance(self.service.make_id, SequentialIds)
            else None,
            "lookup": dict(vars(self.lookup)),
            "intake": self.intake,
            "measured_at": self.measured_at,
            "seen": self._seen,
        }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Take over a state from :meth:`state` (after unpickling)."""
        if state.get("version") != 1:
            raise ValueError(f"unknown disposal checkpoint version {state.get('version')!r}")
        store: Any = self.service.store
        if hasattr(store, "restore"):
            store.restore(state["store"])
        else:
            self.service.store = state["store"]
        self.service.book = state["book"]
        if state["make_id"] is not None:
            self.service.make_id = state["make_id"]
        self.clock.at = state["clock_at"]
        vars(self.lookup).update(state["lookup"])
        self.lookup.changed()
        self.intake = state["intake"]
        self.measured_at = state["measured_at"]
        self._seen = state["seen"]

    def as_of(self, at: dt.datetime) -> None:
        """The screener's view of the measures moves to ``at``."""
        self.lookup.at(at)

    def on_flags(self, flags: Sequence[Flag]) -> list[Measure]:
        """Take the card flags in time order; return the measures newly put in force."""
        new: list[Measure] = []
        for flag in sorted(flags, key=lambda f: f.at):
            if flag.kind != "msisdn":
                continue
            self.clock.at = flag.at
            if self.service.store.card(flag.subject) is None:
                self._block_at_gateway(flag)
                continue
            if self.owns is not None and not self.owns(flag.subject):
                continue  # another partition's card: its own worker disposes of it
            self.service.take_flag(flag, key=flag_key(flag), report=self.intake)
            for measure in self.service.book.measures_of(flag.subject) if self.service.book else ():
                if measure.id not in self._seen:
                    self._seen.add(measure.id)
                    new.append(measure)
                    self.measured_at.setdefault(measure.msisdn, flag.at)
        if new:
            self.lookup.changed()
        return new

    def _block_at_gateway(self, flag: Flag) -> None:
        self.lookup.flag_off_net(flag.subject, flag.at)
        self.measured_at.setdefault(flag.subject, flag.at)

    def blocked_from(self, msisdn: str, at: dt.datetime) -> dt.datetime | None:
        """From when the number's outgoing traffic is blocked, judged at the flag time ``at``."""
        return self.lookup.blocked_from(msisdn, after=at)


def register_cards(store: DisposalStore, records: Path, hash_key: bytes) -> int:
    """Register the simulated carrier's subscribers as its cards (ID documents keyed-hashed)."""
    path = records / "subscribers.parquet"
    return register_subscribers(store, pl.read_parquet(path), hash_key, source_name=str(path))


def register_subscribers(
    store: DisposalStore, subscribers: pl.DataFrame, hash_key: bytes, *, source_name: str
) -> int:
    """Register a simulator ``subscribers`` table (in memory) as the carrier's cards."""
    cards = (
        Card(msisdn, id_key(hash_key, doc), at)
        for msisdn, doc, at in subscribers.select(
            "msisdn", "id_doc_hash", "activated_at"
        ).iter_rows()
    )
    store.import_cards(cards, actor="loop", source_name=source_name)
    return subscribers.height
