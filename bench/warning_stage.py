"""Early warning alone, as the live loop feeds it: CPU per stage over a day's micro-batches.

Run ``uv run python bench/warning_stage.py --records DIR [--batch 20000] [--repeat 3]``.
``--records`` is a folder written by ``telewarden sim`` (the demo's day, for instance).

The whole loop (screen, detect, dispose, warn, as ``telewarden demo`` runs it) runs once over
the day to capture what early warning receives per micro-batch (the flags and the delivered
events); then, in the same process, ``LoopWarner.on_batch`` (the columnar path) and
``LoopWarner.on_batch_by_record`` (every record one by one: the baseline) each replay those
batches into a fresh early warning. Printed: CPU and wall seconds of each (the columnar path
``--repeat`` times, each run's figures and the fastest), events per CPU second of the stage,
the ratio baseline / columnar (in one process, so the machine's load weighs on both), and
whether both paths give the same warnings and counts (exit 1 if not). The capture run's own
CPU and wall time is printed too: the whole loop over the day with the columnar path.

To compare two versions of the library, run this file under each (e.g. ``PYTHONPATH`` set to
an older ``src``) and compare the ratios rather than the seconds when the load varies.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.ports import Flag
from telewarden.services.demo import enterprise_registry
from telewarden.services.live_loop import micro_batches
from telewarden.services.loop_disposal import LoopDisposal, register_cards
from telewarden.services.loop_replay import load_day, make_loop
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine

Batches = list[tuple[list[Flag], pl.DataFrame]]


class _Capture(LoopWarner):
    def __init__(self, early: EarlyWarning) -> None:
        super().__init__(early)
        self.batches: Batches = []

    def on_batch(self, flags: Any, delivered: pl.DataFrame) -> list[Any]:
        self.batches.append((list(flags), delivered))
        return super().on_batch(flags, delivered)


def capture(records: Path, batch: int) -> tuple[Batches, int]:
    """The (flags, delivered events) early warning receives per micro-batch, and the events."""
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, b"bench-key" * 4)
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = _Capture(EarlyWarning(build_engine(subscribers)))
    loop = make_loop(
        records, allow=enterprise_registry(), disposer=LoopDisposal.over(store), warner=warner
    )
    events = load_day(records)
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in micro_batches(events, batch):
        loop.step(chunk)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"whole loop (the capture run): CPU {cpu:.2f} s, wall {wall:.2f} s, "
        f"{events.height / cpu:,.0f} events/CPU-s, {events.height / wall:,.0f} events/s"
    )
    return warner.batches, events.height


def replay(records: Path, batches: Batches, *, by_record: bool) -> dict[str, Any]:
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = LoopWarner(EarlyWarning(build_engine(subscribers)))
    step = warner.on_batch_by_record if by_record else warner.on_batch
    notices = []
    wall, cpu = time.perf_counter(), time.process_time()
    for flags, delivered in batches:
        notices += step(flags, delivered)
    return {
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
        "warnings": [n.as_dict() for n in notices],
        "counts": warner.early.engine.counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.records / "calls.parquet").is_file():
        raise SystemExit(f"{args.records}: not a folder written by telewarden sim")
    if args.batch < 1 or args.repeat < 1:
        raise SystemExit("--batch and --repeat must be at least 1")
    print(f"load average at start: {os.getloadavg()}")
    batches, events = capture(args.records, args.batch)
    print(f"{events:,} events in {len(batches)} batches of {args.batch:,}")
    runs = [replay(args.records, batches, by_record=False) for _ in range(args.repeat)]
    base = replay(args.records, batches, by_record=True)
    for run in runs:
        print(f"columnar   CPU {run['cpu_s']:6.2f} s  wall {run['wall_s']:6.2f} s")
    print(f"by record  CPU {base['cpu_s']:6.2f} s  wall {base['wall_s']:6.2f} s (baseline)")
    best = min(runs, key=lambda r: r["cpu_s"])
    print(
        f"columnar (fastest): {events / best['cpu_s']:,.0f} events/CPU-s; by record: "
        f"{events / base['cpu_s']:,.0f}; ratio by record / columnar CPU "
        f"{base['cpu_s'] / best['cpu_s']:.2f}x"
    )
    print(f"warnings {len(best['warnings']):,}; load average at end: {os.getloadavg()}")
    same = all(r["warnings"] == base["warnings"] and r["counts"] == base["counts"] for r in runs)
    print(f"same warnings and counts on both paths: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
