"""Bounded memory of early warning on a run of many days: the loop with and without pruning.

Run ``uv run python bench/exposure_prune.py [--records DIR] [--hours 240]``. ``--records`` is
a folder written by ``telewarden sim`` (default: the ``tiny`` preset over ``--hours`` hours,
simulated into a temporary folder). The whole loop (screen, detect, dispose, warn) runs over
the records twice in one process: once as ``telewarden run`` does (the exposure index pruned
every six hours of event time), once with pruning switched off (the baseline). Printed per run:
contact summaries held at the end (pairs and not-yet-folded pieces), the largest count seen
after any day, warnings raised and CPU seconds; then whether the warnings are identical and
the ratio of summaries held.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.services.demo import enterprise_registry
from telewarden.services.live_loop import micro_batches
from telewarden.services.loop_disposal import LoopDisposal, register_cards
from telewarden.services.loop_replay import load_day, make_loop
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine


class _NeverPrune(LoopWarner):
    def _prune(self, delivered: pl.DataFrame) -> None:
        return None


def _held(warner: LoopWarner) -> int:
    warner.settle()  # a prune under way finishes first
    index = warner.early.engine.index
    cold = sum(frame.height for frame in index._cold)
    return cold + sum(len(pairs) for pairs in index._by_subject.values())


def run(records: Path, warner_class: type[LoopWarner], batch: int) -> dict[str, object]:
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, b"bench-key" * 4)
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = warner_class(EarlyWarning(build_engine(subscribers)))
    loop = make_loop(
        records, allow=enterprise_registry(), disposer=LoopDisposal.over(store), warner=warner
    )
    events = load_day(records)
    began = time.process_time()
    peak, day = 0, None
    for chunk in micro_batches(events, batch):
        loop.step(chunk)
        at = chunk.get_column("at").max()
        if day != at.date():  # type: ignore[union-attr]
            day = at.date()  # type: ignore[union-attr]
            peak = max(peak, _held(warner))
    return {
        "events": events.height,
        "held_at_end": _held(warner),
        "largest_daily": max(peak, _held(warner)),
        "warnings": list(warner.early.warnings),
        "cpu_s": time.process_time() - began,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=Path)
    parser.add_argument("--hours", type=int, default=240)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        records = args.records
        if records is None:
            records = Path(tmp) / "sim"
            subprocess.run(
                [sys.executable, "-m", "telewarden.cli.main", "sim", "--preset", "tiny",
                 "--hours", str(args.hours), "--out", str(records)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        pruned = run(records, LoopWarner, args.batch)
        kept = run(records, _NeverPrune, args.batch)
    for name, result in (("pruned every 6 h", pruned), ("never pruned (baseline)", kept)):
        print(
            f"{name:24} {result['events']:,} events  summaries held at end "
            f"{result['held_at_end']:,}  largest at a day's end {result['largest_daily']:,}  "
            f"warnings {len(result['warnings']):,}  {result['cpu_s']:.1f} CPU-s"  # type: ignore[arg-type]
        )
    print(f"same warnings: {pruned['warnings'] == kept['warnings']}")
    ratio = int(kept["held_at_end"]) / max(1, int(pruned["held_at_end"]))  # type: ignore[call-overload]
    print(f"summaries held at end: baseline / pruned = x{ratio:.2f}")


if __name__ == "__main__":
    main()
