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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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

__all__ = ["LoopDisposal", "register_cards", "register_subscribers"]

_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class LoopDisposal:
    """Turns the loop's flags into cases and measures, and tells the screener about them."""

    def __init__(
        self,
        service: DisposalService,
        clock: FixedClock,
        lookup: MeasureLookup,
    ) -> None:
        self.service = service
        self.clock = clock
        self.lookup = lookup

        self.intake = IntakeReport()
        self.measured_at: dict[str, dt.datetime] = {}
        self._seen: set[str] = set()

    @classmethod
    def over(cls, store: DisposalStore, **service_options: Any) -> LoopDisposal:
        """A hook over ``store`` with its own event-time clock, book and lookup."""
        clock = FixedClock(_START)
        book = MeasureBook(store.measures_in_force())
        service = DisposalService(store, clock, book=book, **service_options)
        return cls(service, clock, MeasureLookup(book, _START))

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
