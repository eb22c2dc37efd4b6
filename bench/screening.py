"""Benchmark of the real-time screener against a naive baseline measured in the same run.

Run ``uv run python bench/screening.py`` (1M events, 1M-entry deny list) or with ``--small``.

It generates a traffic mix (domestic, cross-border with and without opt-in, deny-listed,
spoofed, service-number impersonation, invalid caller IDs, emergency callees; calls and SMS)
over a subscriber population, loads a deny list of 1M exact numbers plus prefixes, and reports:

- deny-list load time (per-entry ``NumberList.extend`` and bulk ``add_exact_many``);
- batch verdicts/s with cold caches (every distinct number analysed once), with warm number
  caches (a second, independently drawn stream over the same population: most numbers seen,
  some new), and with every number already cached (that second stream replayed through a new
  screener sharing the number cache, so no decision is memoised);
- single-verdict latency p50/p99 (``time.perf_counter_ns`` around each ``decide`` call);
- the same for a naive baseline on a sample: every number parsed afresh with ``phonenumbers``
  (parse, validity, type, carrier, geocoder), no number cache, no decision or trace memo, the
  same rules; and the share of identical verdicts between the two;
- the all-cached pass again over a working set small enough for the CPU caches, to show how
  much of the cost at 1M scale is memory latency;
- the vectorised batch path ``decide_frame`` on the same stream A as a Polars frame: with a
  fresh number cache (every distinct number analysed once) and again with it warm, in
  verdicts/s wall and CPU, its ratio to the per-event path and to the naive baseline, and its
  agreement (verdict, reason, rule, SIP status and reason, origin) with ``decide`` row by row;
- a machine-speed reference (``sum(range(1000))``) because the shared machine is noisy.

Everything runs in one Python thread, i.e. on one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import sys
import time
import timeit
from collections import Counter
from collections.abc import Callable, Sequence

import polars as pl

from telewarden.core.numbers import NumberInfo, NumberIntel
from telewarden.core.screening import (
    Channel,
    Decision,
    Ingress,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    OptInBook,
    OptInScope,
    Screener,
    ScreeningEvent,
    decide_frame,
)

MOBILE_PREFIXES = [
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "175", "176", "177", "178"),
    *(f"18{d}" for d in range(10)),
    *("198", "199"),
]
T0 = dt.datetime(2026, 5, 20, tzinfo=dt.UTC)


class UncachedIntel(NumberIntel):
    """Naive number analysis: a full ``phonenumbers`` parse every time, nothing remembered."""

    def analyse(self, raw: str) -> NumberInfo:
        return self.analyse_uncached(raw)


def mobiles(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct-ish 11-digit mainland mobiles."""
    pre = MOBILE_PREFIXES
    return [f"{rng.choice(pre)}{rng.randrange(10**8):08d}" for _ in range(n)]


def foreign(rng: random.Random, n: int) -> list[str]:
    """Cross-border caller IDs in E.164 form: HK, Macao, Taiwan and several countries."""
    makers = [
        lambda: f"+852{rng.choice('569')}{rng.randrange(10**7):07d}",
        lambda: f"+8536{rng.choice('2345678')}{rng.randrange(10**6):06d}",
        lambda: f"+8869{rng.randrange(10**8):08d}",
        lambda: f"+85512{rng.randrange(10**6):06d}",
        lambda: f"+639{rng.choice('1235')}{rng.randrange(10**8):08d}",
        lambda: f"+959{rng.choice('4679')}{rng.randrange(10**8):08d}",
        lambda: f"+447{rng.choice('4579')}{rng.randrange(10**8):08d}",
        lambda: f"+1{rng.choice(['202', '415', '646'])}{rng.randrange(2 * 10**6, 10**7):07d}",
        lambda: f"+6012{rng.randrange(10**7):07d}",
    ]
    return [rng.choice(makers)() for _ in range(n)]


class Population:
    """The numbers traffic is drawn from (fixed for a run, so caches can warm up)."""

    def __init__(self, rng: random.Random, n_events: int) -> None:
        self.subscribers = mobiles(rng, max(1000, n_events // 5))
        self.domestic = mobiles(rng, max(1000, n_events // 3)) + [
            f"0{rng.choice(['10', '21', '755', '20', '28', '571'])}{rng.randrange(10**7, 10**8)}"
            for _ in range(max(100, n_events // 50))
        ]
        self.foreign = foreign(rng, max(500, n_events // 20))
        self.opted_in = rng.sample(self.subscribers, len(self.subscribers) // 10)
        self.denied = mobiles(rng, max(200, n_events // 100))
        self.services = ["110", "95588", "10086", "12381", "96110", "95533"]
        self.fakes = ["+110", "0110", "00110", "96110123", "+95588", "1101"]
        self.invalid = ["14812345678", "+852123", "abc", "", "+99912345", "1234567890123456"]
        self.emergency = ["110", "119", "120", "122", "96110"]


def make_events(rng: random.Random, pop: Population, n: int) -> list[ScreeningEvent]:
    """A traffic mix; the shares are printed by the benchmark."""
    out: list[ScreeningEvent] = []
    append = out.append
    r = rng.random
    choice = rng.choice
    for _ in range(n):
        x = r()
        channel = Channel.SMS if r() < 0.2 else Channel.CALL
        callee = choice(pop.subscribers)
        if x < 0.66:
            append(ScreeningEvent(choice(pop.domestic), callee, channel, Ingress.DOMESTIC))
        elif x < 0.74:
            append(ScreeningEvent(choice(pop.foreign), callee, channel, Ingress.INTERNATIONAL))
        elif x < 0.80:
            append(
                ScreeningEvent(
                    choice(pop.foreign), choice(pop.opted_in), channel, Ingress.INTERNATIONAL
                )
            )
        elif x < 0.85:
            append(ScreeningEvent(choice(pop.denied), callee, channel, Ingress.DOMESTIC))
        elif x < 0.86:
            # A virtual-operator range on the deny list as a prefix (+86170[0-2]).
            caller = f"170{rng.randrange(3)}{rng.randrange(10**7):07d}"
            append(ScreeningEvent(caller, callee, channel, Ingress.DOMESTIC))
        elif x < 0.91:
            caller = "+86" + choice(pop.domestic).lstrip("0")
            append(ScreeningEvent(caller, callee, channel, Ingress.INTERNATIONAL))
        elif x < 0.94:
            caller = choice(pop.services) if r() < 0.5 else choice(pop.fakes)
            append(ScreeningEvent(caller, callee, channel, Ingress.INTERNATIONAL))
        elif x < 0.96:
            append(ScreeningEvent(choice(pop.invalid), callee, channel, Ingress.DOMESTIC))
        elif x < 0.98:
            append(ScreeningEvent(choice(pop.domestic), callee, channel, Ingress.UNKNOWN))
        else:
            caller = choice(pop.foreign) if r() < 0.5 else "+86" + choice(pop.domestic)
            append(
                ScreeningEvent(caller, choice(pop.emergency), Channel.CALL, Ingress.INTERNATIONAL)
            )
    return out


def build_deny(rng: random.Random, pop: Population, n: int) -> tuple[NumberList, float, float]:
    """1M-style deny list; returns it with the per-entry and bulk load times (seconds)."""
    numbers = {"+86" + m for m in pop.denied}
    while len(numbers) < n:
        numbers.update("+86" + m for m in mobiles(rng, n - len(numbers)))
    entries = [ListEntry(num, MatchKind.EXACT, "police-feed", "confirmed fraud") for num in numbers]
    entries += [
        ListEntry(f"+86170{d}", MatchKind.PREFIX, "miit", "virtual operator range")
        for d in range(3)
    ]
    entries += [
        ListEntry(f"+8616{rng.randrange(10**5):05d}", MatchKind.PREFIX, "ops", "reported range")
        for _ in range(2000)
    ]
    gc.collect()
    t = time.perf_counter()
    deny = NumberList()
    deny.extend(entries)
    per_entry_s = time.perf_counter() - t
    bulk = NumberList()
    t = time.perf_counter()
    bulk.add_exact_many(numbers, "police-feed", "confirmed fraud")
    bulk_s = time.perf_counter() - t
    return deny, per_entry_s, bulk_s


def build_optins(pop: Population) -> OptInBook:
    book = OptInBook()
    for i, msisdn in enumerate(pop.opted_in):
        scope = (OptInScope.CALLS, OptInScope.SMS, OptInScope.BOTH)[i % 3]
        book.set(OptIn("+86" + msisdn, scope, True, T0, "sms-1219"))
    return book


def batch_rate(
    screener: Screener, events: Sequence[ScreeningEvent]
) -> tuple[float, float, list[Decision]]:
    """Verdicts per second of wall time and of this process's CPU time."""
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    decisions = screener.decide_many(events)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return len(events) / wall, len(events) / max(cpu, 1e-9), decisions


def to_frame(events: Sequence[ScreeningEvent]) -> pl.DataFrame:
    """The events as the batch file reader would give them (text columns)."""
    return pl.DataFrame(
        {
            "caller": [e.caller for e in events],
            "callee": [e.callee for e in events],
            "channel": [e.channel.value for e in events],
            "ingress": [e.ingress.value for e in events],
        }
    )


def frame_rate(screener: Screener, frame: pl.DataFrame) -> tuple[float, float, pl.DataFrame]:
    """``decide_frame`` verdicts per second of wall time and of this process's CPU time."""
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    out = decide_frame(screener, frame)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return frame.height / wall, frame.height / max(cpu, 1e-9), out


def singles(
    screener: Screener, events: Sequence[ScreeningEvent], clock: Callable[[], int]
) -> list[int]:
    """Per-call latency in ns, measured with ``clock`` around each ``decide``."""
    decide = screener.decide
    out: list[int] = []
    append = out.append
    gc.collect()
    for event in events:
        t0 = clock()
        decide(event)
        append(clock() - t0)
    return out


def describe(lat: list[int]) -> str:
    return (
        f"p50 {pct(lat, 0.5):.1f} us, p99 {pct(lat, 0.99):.1f} us, "
        f"p99.9 {pct(lat, 0.999):.1f} us, mean {statistics.fmean(lat) / 1000:.1f} us"
    )


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100k events, 100k deny entries")
    parser.add_argument("--seed", type=int, default=20260520)
    args = parser.parse_args(argv)
    n_events = 100_000 if args.small else 1_000_000
    n_deny = 100_000 if args.small else 1_000_000
    n_singles = 20_000 if args.small else 100_000
    n_naive = 5_000 if args.small else 20_000
    rng = random.Random(args.seed)

    ref_us = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"machine reference: sum(range(1000)) = {ref_us:.1f} us (one thread; shared machine)")
    print(f"python {sys.version.split()[0]}; events={n_events:,} deny={n_deny:,}")

    t = time.perf_counter()
    pop = Population(rng, n_events)
    stream_a = make_events(rng, pop, n_events)
    stream_b = make_events(rng, pop, n_events // 2)
    stream_c = make_events(rng, pop, n_singles)
    print(f"generated traffic in {time.perf_counter() - t:.1f} s")

    deny, per_entry_s, bulk_s = build_deny(rng, pop, n_deny)
    print(
        f"deny list: {len(deny):,} entries; extend(ListEntry) {per_entry_s:.2f} s "
        f"({len(deny) / per_entry_s:,.0f}/s); add_exact_many {bulk_s:.2f} s "
        f"({n_deny / bulk_s:,.0f}/s)"
    )
    optins = build_optins(pop)
    print(f"opt-ins: {len(optins):,} subscribers")

    fast = Screener(deny=deny, optins=optins)
    cold_wall, cold_cpu, decisions = batch_rate(fast, stream_a)
    mix = Counter(d.reason.value for d in decisions)
    shares = ", ".join(f"{k}={v / len(decisions):.1%}" for k, v in mix.most_common())
    print(f"verdict mix (stream A): {shares}")
    print(
        f"fast batch, cold caches ({len(stream_a):,} events): {cold_wall:,.0f} verdicts/s wall, "
        f"{cold_cpu:,.0f} verdicts/s CPU"
    )
    warm_wall, warm_cpu, _ = batch_rate(fast, stream_b)
    print(
        f"fast batch, warm number caches ({len(stream_b):,} new events): {warm_wall:,.0f} "
        f"verdicts/s wall, {warm_cpu:,.0f} verdicts/s CPU"
    )
    hot = Screener(deny=deny, optins=optins, numbers=fast.numbers)
    hot_wall, hot_cpu, _ = batch_rate(hot, stream_b)
    print(
        f"fast batch, every number already cached, empty decision memo "
        f"({len(stream_b):,} events): {hot_wall:,.0f} verdicts/s wall, {hot_cpu:,.0f} verdicts/s CPU"
    )
    # The same all-cached pass over a working set that fits in CPU caches (2k-event population,
    # 1k-entry deny list): the gap to the line above is memory latency, not Python work.
    tiny_pop = Population(rng, 2_000)
    tiny_deny, _, _ = build_deny(rng, tiny_pop, 1_000)
    tiny_events = make_events(rng, tiny_pop, len(stream_b))
    tiny = Screener(deny=tiny_deny, optins=build_optins(tiny_pop))
    tiny.decide_many(tiny_events)
    tiny_hot = Screener(deny=tiny_deny, optins=tiny.optins, numbers=tiny.numbers)
    tiny_wall, tiny_cpu, _ = batch_rate(tiny_hot, tiny_events)
    print(
        f"fast batch, all cached, small working set (~{len(tiny.numbers):,} numbers, "
        f"{len(tiny_deny):,} deny entries, {len(tiny_events):,} events): {tiny_wall:,.0f} "
        f"verdicts/s wall, {tiny_cpu:,.0f} verdicts/s CPU"
    )
    fast_wall = singles(fast, stream_c, time.perf_counter_ns)
    fast_cpu = singles(fast, make_events(rng, pop, n_singles), time.thread_time_ns)
    print(f"fast single, wall ({len(fast_wall):,} calls): {describe(fast_wall)}")
    print(f"fast single, thread CPU ({len(fast_cpu):,} other calls): {describe(fast_cpu)}")

    naive = Screener(deny=deny, optins=optins, numbers=UncachedIntel(), memoise=False)
    sample = stream_a[:n_naive]
    naive_wall, naive_cpu, naive_decisions = batch_rate(naive, sample)
    print(
        f"naive batch ({len(sample):,} events): {naive_wall:,.0f} verdicts/s wall, "
        f"{naive_cpu:,.0f} verdicts/s CPU"
    )
    naive_lat = singles(naive, stream_c[:n_naive], time.perf_counter_ns)
    print(f"naive single, wall ({len(naive_lat):,} calls): {describe(naive_lat)}")
    same = sum(
        a.verdict == b.verdict and a.reason == b.reason
        for a, b in zip(decisions[:n_naive], naive_decisions, strict=True)
    )
    print(f"agreement fast vs naive on the sample: {same / len(sample):.2%}")
    print(
        f"ratios vs naive (CPU): batch cold {cold_cpu / naive_cpu:.1f}x, batch warm "
        f"{warm_cpu / naive_cpu:.1f}x, batch all-cached {hot_cpu / naive_cpu:.1f}x; single wall p50 "
        f"{pct(naive_lat, 0.5) / pct(fast_wall, 0.5):.1f}x, p99 "
        f"{pct(naive_lat, 0.99) / pct(fast_wall, 0.99):.1f}x faster"
    )

    frame = to_frame(stream_a)
    # A fresh screener and number cache: the cold figure includes analysing every distinct number.
    # The cache is sized to hold all of stream A's ~650k distinct numbers: with the default
    # (1M in two generations of 500k) a second pass over them thrashes and re-analyses most.
    vec = Screener(deny=deny, optins=optins, numbers=NumberIntel(cache_size=4 * n_events))
    vcold_wall, vcold_cpu, out = frame_rate(vec, frame)
    print(
        f"decide_frame, cold number cache ({frame.height:,} events, "
        f"{len(vec.numbers):,} numbers analysed one by one; mainland mobiles by prefix template): {vcold_wall:,.0f} verdicts/s wall, "
        f"{vcold_cpu:,.0f} verdicts/s CPU"
    )
    vhot_wall, vhot_cpu, out = frame_rate(vec, frame)
    print(
        f"decide_frame, every number cached (same {frame.height:,} events again, number cache "
        f"of {vec.numbers.cache_size:,}): {vhot_wall:,.0f} "
        f"verdicts/s wall, {vhot_cpu:,.0f} verdicts/s CPU"
    )
    want = [
        (d.verdict.value, d.reason.value, d.rule, d.sip_status, d.sip_reason, d.origin)
        for d in decisions
    ]
    got = out.select("verdict", "reason", "rule", "sip_status", "sip_reason", "origin").rows()
    agree = sum(a == b for a, b in zip(want, got, strict=True))
    print(
        f"agreement decide_frame vs decide (all 6 output columns, all {len(want):,} rows): "
        f"{agree / len(want):.4%} ({len(want) - agree:,} differ)"
    )
    print(
        f"decide_frame ratios (CPU): cold {vcold_cpu / cold_cpu:.1f}x per-event cold, "
        f"{vcold_cpu / naive_cpu:.1f}x naive; all-cached {vhot_cpu / hot_cpu:.1f}x per-event "
        f"all-cached, {vhot_cpu / naive_cpu:.1f}x naive"
    )
    print(
        f"goals: batch >= 200,000/s CPU: cold {'met' if cold_cpu >= 200_000 else 'NOT met'}, "
        f"warm {'met' if warm_cpu >= 200_000 else 'NOT met'}, all-cached "
        f"{'met' if hot_cpu >= 200_000 else 'NOT met'}; decide_frame cold "
        f"{'met' if vcold_cpu >= 200_000 else 'NOT met'}, all-cached "
        f"{'met' if vhot_cpu >= 200_000 else 'NOT met'}; single p99 < 100 us: wall "
        f"{'met' if pct(fast_wall, 0.99) < 100 else 'NOT met'}, thread CPU "
        f"{'met' if pct(fast_cpu, 0.99) < 100 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
