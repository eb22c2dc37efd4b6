"""Benchmark the simulator: records/s and memory, generator alone vs. generator + Parquet.

Run ``uv run python bench/sim.py`` (about 6 M records) or ``--small`` (a quick run). Both
phases use the same configuration and seed in the same process; the ratio between them is
the figure to quote, since the machine is shared and absolute rates are noisy.

Memory: the resident set size is sampled after every chunk (``/proc/self/statm``); "flat"
means the RSS after the last chunk is close to the RSS after the first, i.e. memory does not
grow with the number of records. ``ru_maxrss`` (peak) is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from telewarden.adapters.records_io import TableWriter
from telewarden.core.sim import SimConfig, Simulation, preset

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_MB


def peak_mb() -> float:
    """Peak resident set size so far in MB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(config: SimConfig, out: Path | None) -> dict[str, float]:
    """Generate (and optionally write) every chunk; return timings and memory samples."""
    started = time.perf_counter()
    sim = Simulation(config)
    built = time.perf_counter() - started
    rss: list[float] = []
    records = calls = 0
    t0 = time.perf_counter()
    writer = TableWriter(out) if out is not None else None
    for chunk in sim.chunks():
        if writer is not None:
            for name in ("calls", "sms", "usage", "truth_events", "truth_victims"):
                writer.write(name, getattr(chunk, name))
        calls += chunk.calls.height
        records += chunk.calls.height + chunk.sms.height + chunk.usage.height
        del chunk
        rss.append(rss_mb())
    if writer is not None:
        writer.close()
    elapsed = time.perf_counter() - t0
    return {
        "build_s": built,
        "elapsed_s": elapsed,
        "records": records,
        "calls": calls,
        "records_per_s": records / elapsed,
        "calls_per_s": calls / elapsed,
        "rss_first_mb": rss[0],
        "rss_mid_mb": rss[len(rss) // 2],
        "rss_last_mb": rss[-1],
        "rss_max_mb": max(rss),
        "chunks": len(rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="quick run (~0.5 M records)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    base = preset("day", args.seed)
    if args.small:
        config = replace(base, subscribers=20_000, hours=12, shard_size=10_000)
    else:
        config = replace(base, subscribers=400_000, hours=24, shard_size=100_000)
    print(
        f"config: {config.subscribers:,} subscribers, {config.hours} h, "
        f"shard {config.shard_size:,} -> {config.hours * -(-config.subscribers // config.shard_size)}"
        " chunks; 2 shared cores, figures are noisy: quote the ratio"
    )
    gen = run(config, None)
    with tempfile.TemporaryDirectory() as tmp:
        both = run(config, Path(tmp))
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
    for name, r in (("generator only", gen), ("generator + Parquet", both)):
        print(
            f"{name:20s}: {r['records']:,.0f} records ({r['calls']:,.0f} calls) in "
            f"{r['elapsed_s']:.1f} s = {r['records_per_s']:,.0f} records/s, "
            f"{r['calls_per_s']:,.0f} calls/s; population built in {r['build_s']:.1f} s"
        )
        print(
            f"{'':20s}  RSS after chunk 1 / middle / last: {r['rss_first_mb']:,.0f} / "
            f"{r['rss_mid_mb']:,.0f} / {r['rss_last_mb']:,.0f} MB "
            f"(max over {r['chunks']:.0f} chunks {r['rss_max_mb']:,.0f} MB)"
        )
    print(f"Parquet written: {size_mb:,.1f} MB")
    print(f"peak RSS of the process (ru_maxrss): {peak_mb():,.0f} MB")
    print(
        "ratio (generator + Parquet) / (generator only) records/s: "
        f"{both['records_per_s'] / gen['records_per_s']:.2f}"
    )
    print(
        "memory growth first -> last chunk (generator only): "
        f"{gen['rss_last_mb'] - gen['rss_first_mb']:+,.0f} MB over {gen['records']:,.0f} records"
    )
    hours_for_100m = 100e6 / both["calls_per_s"] / 3600
    print(f"100 M call records at the generator + Parquet call rate: {hours_for_100m:.2f} h")


if __name__ == "__main__":
    main()
