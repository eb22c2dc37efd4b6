"""Bulk number analysis for every region against phonenumbers, in the same run.

Run ``uv run python bench/numbers_bulk.py`` (1M numbers) or ``--n 10000000 --check all`` for the
10-million agreement run (about 2 ms of phonenumbers per 10 numbers: budget ~20 min a core).

It draws ``--n`` number strings from every region phonenumbers knows
(``telewarden.testing.numbering.world_numbers``: example numbers of every type with redrawn
tails, random national numbers behind every country code, random ``+`` digit strings, one in ten
written ``00...``), keeps the distinct ones, and reports on one thread (CPU time of this
process; ``POLARS_MAX_THREADS=1`` is set before Polars is imported):

- the one-off compilation of the numbering plan (every country);
- the bulk rate of ``analyse_international`` (the tables alone) and of ``analyse_frame`` (tables
  plus the scalar fallback for what they leave), in distinct numbers per CPU second;
- the rate of the scalar reference (``NumberIntel.analyse_uncached``: a full phonenumbers parse,
  type, validity, region, carrier) on a sample, and the ratio;
- agreement: every field of the bulk answer compared with the scalar one, for a sample
  (``--check sample``, default) or every number (``--check all``); any disagreement is printed
  and the exit status is 1.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import phonenumbers  # noqa: E402
import polars as pl  # noqa: E402

from telewarden.core.numbering import (  # noqa: E402
    analyse_frame,
    analyse_international,
    compile_plan,
)
from telewarden.core.numbers import NumberIntel  # noqa: E402
from telewarden.testing.numbering import check_bulk_agreement, world_numbers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="numbers drawn")
    parser.add_argument("--sample", type=int, default=20_000, help="scalar reference sample")
    parser.add_argument("--check", choices=("sample", "all"), default="sample")
    parser.add_argument("--check-sample", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per bulk call")
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    t = time.perf_counter()
    raws = list(dict.fromkeys(world_numbers(rng, args.n)))
    print(
        f"phonenumbers {phonenumbers.__version__}, polars {pl.__version__}, threads "
        f"{pl.thread_pool_size()}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{len(raws):,} distinct of {args.n:,} drawn ({time.perf_counter() - t:.1f} s)")

    c = time.process_time()
    plan = compile_plan()
    scalar_codes = plan.compile_all()
    print(
        f"plan compiled (every country): {time.process_time() - c:.2f} CPU s; "
        f"countries left to the scalar path: {sorted(scalar_codes) or 'none'}"
    )

    series = pl.Series("raw", raws, dtype=pl.String)
    chunks = [series.slice(i, args.chunk) for i in range(0, series.len(), args.chunk)]
    c = time.process_time()
    w = time.perf_counter()
    answered = left = 0
    for chunk in chunks:
        done, rest = analyse_international(chunk, plan=plan)
        answered += done.height
        left += rest.len()
    tables_cpu = time.process_time() - c
    tables_wall = time.perf_counter() - w
    print(
        f"tables alone   : {len(raws) / tables_cpu:>12,.0f} numbers/CPU-s "
        f"({len(raws) / tables_wall:,.0f}/s wall); answered {answered:,} "
        f"({answered / len(raws):.1%}), left to the scalar path {left:,}"
    )

    intel = NumberIntel()
    c = time.process_time()
    rows = 0
    for chunk in chunks:
        rows += analyse_frame(intel, chunk).height
    frame_cpu = time.process_time() - c
    assert rows == len(raws)
    print(f"analyse_frame  : {len(raws) / frame_cpu:>12,.0f} numbers/CPU-s (tables + fallback)")

    sample = random.Random(args.seed + 1).sample(raws, min(args.sample, len(raws)))
    reference = NumberIntel()
    c = time.process_time()
    for raw in sample:
        reference.analyse_uncached(raw)
    scalar_cpu = time.process_time() - c
    scalar_rate = len(sample) / scalar_cpu
    print(
        f"phonenumbers   : {scalar_rate:>12,.0f} numbers/CPU-s "
        f"({scalar_cpu / len(sample) * 1e6:.0f} us a number, sample of {len(sample):,})"
    )
    print(
        f"ratio: tables {len(raws) / tables_cpu / scalar_rate:.1f}x, "
        f"analyse_frame {len(raws) / frame_cpu / scalar_rate:.1f}x phonenumbers"
    )

    checked = (
        raws
        if args.check == "all"
        else sample + random.Random(args.seed + 2).sample(raws, min(args.check_sample, len(raws)))
    )
    checked = list(dict.fromkeys(checked))
    c = time.perf_counter()
    disagreements = 0
    from_tables = 0
    step = 200_000
    for i in range(0, len(checked), step):
        report = check_bulk_agreement(checked[i : i + step])
        from_tables += report.from_tables
        disagreements += len(report.disagreements)
        for row in report.disagreements[:20]:
            print("DISAGREEMENT", row)
        if args.check == "all" and (i // step) % 5 == 4:
            print(
                f"  checked {i + step:,} ({time.perf_counter() - c:.0f} s), disagreements so far {disagreements}",
                flush=True,
            )
    print(
        f"agreement: {len(checked):,} distinct numbers checked field by field "
        f"({from_tables:,} answered by the tables), {disagreements} disagreeing fields "
        f"({time.perf_counter() - c:.0f} s)"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
