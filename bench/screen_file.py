"""``screen file`` end to end on a cold mix of distinct foreign callers, bulk vs scalar numbers.

Run ``uv run python bench/screen_file.py`` (300,000 events) or ``--events N``.

It writes a CSV event file whose callers are mostly distinct foreign numbers from every region
(phonenumbers' example mobile and fixed-line numbers of each region with their last 3 to 6
digits redrawn, as E.164), the rest mainland mobiles, calling a population of mainland
subscribers over international ingress, and screens it with ``services.screen_file.screen_file``
(read, ``decide_frame``, write Parquet) three times in the same process, each with a fresh
screener (empty number cache):

- baseline: the previous number path, every distinct string through ``NumberIntel.analyse``
  (``decide_frame`` with ``analyse_frame`` replaced by the scalar loop it replaced);
- previous: distinct international numbers analysed in bulk by ``core.numbering``, pair facts
  (opt-in, cross-border default) by a Python loop per distinct (callee, channel) and mobile
  template rows rebuilt for every chunk, as before issue #18 part 3;
- current: pair facts as one expression, template rows kept per analyser
  (``--no-scalar`` skips the slow scalar baseline).

It reports verdicts per second (wall and CPU of this process; ``POLARS_MAX_THREADS=1``), the
ratios, and whether the verdict files are identical.
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
from typing import Any  # noqa: E402

import phonenumbers  # noqa: E402
import polars as pl  # noqa: E402
from phonenumbers import PhoneNumberFormat, PhoneNumberType  # noqa: E402

import telewarden.core.screening.batch as batch  # noqa: E402
from telewarden.core.numbering import analyse_frame, compile_plan, infos_frame  # noqa: E402
from telewarden.core.numbers import NumberIntel  # noqa: E402
from telewarden.core.screening import Screener  # noqa: E402
from telewarden.core.screening.types import Channel  # noqa: E402
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


def previous_with_pair(snap: Any, work: pl.DataFrame, needed: pl.Expr) -> pl.DataFrame:
    """The previous pair facts: a Python loop per distinct (callee, channel), then a join."""
    pairs = work.filter(needed).select("_callee", "_channel", "callee.e164").unique()
    optin: list[str | None] = []
    block: list[bool] = []
    located = bool(snap.values.region_overrides)
    for raw, channel_value, e164 in pairs.iter_rows():
        channel = Channel(channel_value)
        if located:
            facts = snap.pair(snap.numbers.analyse(raw), channel)
        else:
            facts = snap.pair_by_e164(e164, channel, None)
        optin.append(facts.optin)
        block.append(facts.default_block)
    table = pairs.select("_callee", "_channel").with_columns(
        pl.Series("pair.optin", optin, dtype=pl.String),
        pl.Series("pair.default_block", block, dtype=pl.Boolean),
    )
    return work.join(table, on=["_callee", "_channel"], how="left")


def previous_templates(numbers: NumberIntel, prefixes: pl.Series) -> pl.DataFrame:
    """The previous template rows: every prefix of every chunk looked up again."""
    numbers.derived.clear()
    return CURRENT[1](numbers, prefixes)


CURRENT = (batch._with_pair, batch._templates)


def run(
    source: Path,
    output: Path,
    *,
    bulk: bool,
    prefixes: list[str] | None = None,
    previous: bool = False,
) -> tuple[float, float, int]:
    batch.analyse_frame = analyse_frame if bulk else scalar_frame  # type: ignore[assignment]
    batch._with_pair = previous_with_pair if previous else CURRENT[0]  # type: ignore[assignment]
    batch._templates = previous_templates if previous else CURRENT[1]  # type: ignore[assignment]
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
    parser.add_argument(
        "--no-scalar", action="store_true", help="skip the slow scalar-numbers baseline"
    )
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
            for label, key, bulk, previous in (
                ("baseline (scalar numbers)", "scalar", False, True),
                ("previous (bulk, pair loop)", "previous", True, True),
                ("current", "current", True, False),
            ):
                if key == "scalar" and args.no_scalar:
                    continue
                out = Path(tmp) / f"verdicts-{key}-{warm}.parquet"
                wall, cpu, screened = run(
                    source,
                    out,
                    bulk=bulk,
                    prefixes=prefixes if warm else None,
                    previous=previous,
                )
                rates[key] = screened / cpu
                print(
                    f"  {label:<27}: {screened / wall:>10,.0f} verdicts/s wall, "
                    f"{screened / cpu:>10,.0f} verdicts/CPU-s"
                )
            current = pl.read_parquet(Path(tmp) / f"verdicts-current-{warm}.parquet")
            identical = all(
                current.equals(pl.read_parquet(Path(tmp) / f"verdicts-{key}-{warm}.parquet"))
                for key in rates
            )
            same = same and identical
            ratios = ", ".join(
                f"x{rates['current'] / rates[key]:.2f} over {key}"
                for key in rates
                if key != "current"
            )
            print(f"  ratio (CPU): {ratios}; identical verdicts: {identical}")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
