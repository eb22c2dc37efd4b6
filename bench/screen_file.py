"""``screen file`` end to end on a cold mix of distinct foreign callers, bulk vs scalar numbers.

Run ``uv run python bench/screen_file.py`` (300,000 events) or ``--events N``.

It writes a CSV event file whose callers are mostly distinct foreign numbers from every region
(phonenumbers' example mobile and fixed-line numbers of each region with their last 3 to 6
digits redrawn, as E.164), the rest mainland mobiles, calling a population of mainland
subscribers over international ingress, and screens it with ``services.screen_file.screen_file``
(read, ``decide_frame``, write Parquet) twice in the same process, each time with a fresh
screener (empty number cache):

- baseline: the previous number path, every distinct string through ``NumberIntel.analyse``
  (``decide_frame`` with ``analyse_frame`` replaced by the scalar loop it replaced);
- current: distinct international numbers analysed in bulk by ``core.numbering``.

It reports verdicts per second (wall and CPU of this process; ``POLARS_MAX_THREADS=1``), the
ratio, and whether the two verdict files are identical.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from pathlib import Path  # noqa: E402

import phonenumbers  # noqa: E402
import polars as pl  # noqa: E402
from phonenumbers import PhoneNumberFormat, PhoneNumberType  # noqa: E402

import telewarden.core.screening.batch as batch  # noqa: E402
from telewarden.core.numbering import analyse_frame, compile_plan, infos_frame  # noqa: E402
from telewarden.core.numbers import NumberIntel  # noqa: E402
from telewarden.core.screening import Screener  # noqa: E402
from telewarden.services.screen_file import screen_file  # noqa: E402


def foreign_callers(rng: random.Random, n: int) -> list[str]:
    """``n`` real-looking foreign numbers from every region (mobile and fixed-line examples)."""
    seeds = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"CN"}):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            num = phonenumbers.example_number_for_type(region, kind)
            if num is not None:
                seeds.append(phonenumbers.format_number(num, PhoneNumberFormat.E164))
    out = []
    for _ in range(n):
        seed = rng.choice(seeds)
        k = rng.randint(3, 6)
        out.append(seed[:-k] + "".join(rng.choice("0123456789") for _ in range(k)))
    return out


def write_events(path: Path, n: int, seed: int) -> int:
    rng = random.Random(seed)
    subscribers = [f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" for _ in range(50_000)]
    callers = foreign_callers(rng, int(n * 0.9))
    callers += [
        f"+861{rng.choice('3589')}{rng.randrange(10**9):09d}" for _ in range(n - len(callers))
    ]
    rng.shuffle(callers)
    frame = pl.DataFrame(
        {
            "caller": callers,
            "callee": [rng.choice(subscribers) for _ in range(n)],
            "channel": ["call"] * n,
            "ingress": ["international"] * n,
        }
    )
    frame.write_csv(path)
    return frame.get_column("caller").n_unique()


def scalar_frame(intel: NumberIntel, raws: Iterable[str] | pl.Series) -> pl.DataFrame:
    """The previous number path of ``decide_frame``: ``analyse_many`` over every string."""
    return infos_frame(intel.analyse_many(list(raws)))


def run(
    source: Path, output: Path, *, bulk: bool, prefixes: list[str] | None = None
) -> tuple[float, float, int]:
    batch.analyse_frame = analyse_frame if bulk else scalar_frame  # type: ignore[assignment]
    screener = Screener()
    for prefix in prefixes or ():
        # a screener that has run before knows the mainland mobile ranges (not timed)
        screener.snapshot.numbers.mobile_template(prefix)
    c = time.process_time()
    w = time.perf_counter()
    result = screen_file(screener, source, output)
    return time.perf_counter() - w, time.process_time() - c, result.summary.screened


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    compile_plan().compile_all()  # once per process, as in a long-running screener
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "events.csv"
        distinct = write_events(source, args.events, args.seed)
        print(
            f"{args.events:,} events, {distinct:,} distinct callers (90 % foreign, from "
            f"{len(phonenumbers.SUPPORTED_REGIONS) - 1} regions); polars threads "
            f"{pl.thread_pool_size()}; load average {os.getloadavg()[0]:.1f}"
        )
        events = pl.read_csv(source, schema_overrides={"callee": pl.String})
        mainland = pl.concat(
            [events.get_column("callee"), events.get_column("caller").str.strip_prefix("+86")]
        )
        prefixes = (
            mainland.filter(mainland.str.contains(r"^1[3-9][0-9]{9}$")).str.slice(0, 5).unique()
        ).to_list()
        same = True
        for warm, title in (
            (False, "fresh screener (mainland mobile ranges cold too)"),
            (True, f"mainland mobile ranges known ({len(prefixes):,} prefixes), callers cold"),
        ):
            print(title)
            rates = {}
            for label, bulk in (
                ("baseline (scalar numbers)", False),
                ("current (bulk numbers)", True),
            ):
                out = Path(tmp) / f"verdicts-{bulk}-{warm}.parquet"
                wall, cpu, screened = run(
                    source, out, bulk=bulk, prefixes=prefixes if warm else None
                )
                rates[bulk] = screened / cpu
                print(
                    f"  {label:<27}: {screened / wall:>10,.0f} verdicts/s wall, "
                    f"{screened / cpu:>10,.0f} verdicts/CPU-s"
                )
            identical = pl.read_parquet(Path(tmp) / f"verdicts-False-{warm}.parquet").equals(
                pl.read_parquet(Path(tmp) / f"verdicts-True-{warm}.parquet")
            )
            same = same and identical
            print(
                f"  ratio (CPU): x{rates[True] / rates[False]:.1f}; identical verdicts: {identical}"
            )
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
