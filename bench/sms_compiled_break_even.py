"""Where the compiled SMS scoring kernel repays its first use: ``classify_file`` in fresh processes.

Run: ``uv run python bench/sms_compiled_break_even.py [--sizes 2500 20000 40000] [--data DIR]``.

For each size, distinct long English messages (five uci_sms messages joined, ~400 characters,
none repeated) are written to a TSV and classified by ``classify_file`` (one worker, shipped
model) in two fresh processes: one with ``COMPILED_MIN_BYTES`` at 0 (the kernel is loaded at
the call, numba's import and cached code included), one with it out of reach (the NumPy path).
Prints the CPU seconds and wall seconds of the call in each, and their difference: where it
turns negative is the input size from which ``COMPILED_MIN_BYTES`` should load the kernel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _one(mode: str, n: int, data: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import telewarden.services.sms_classify as service
    from sms_e2e import _distinct_long, _read, _write_tsv
    from telewarden.adapters.files.messages import MessageFormat
    from telewarden.adapters.memory import MemoryStore
    from telewarden.core.ports import FixedClock
    from telewarden.core.screening import PolicySettings
    from telewarden.services.context import AppContext, Gates

    at = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    store = MemoryStore(clock=FixedClock(at))
    basis = "benchmark: public research corpora, no subscriber content"
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis=basis), actor="bench"
    )
    ctx = AppContext(store=store, clock=FixedClock(at), gates=Gates(content_inspection=True))
    texts = _distinct_long(_read(data / "uci_sms" / "SMSSpamCollection.tsv"), n)
    service.COMPILED_MIN_BYTES = 0 if mode == "kernel" else 1 << 62
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.tsv"
        _write_tsv(source, texts)
        cpu, wall = time.process_time(), time.perf_counter()
        service.classify_file(ctx, source, Path(tmp) / "out.tsv", fmt=MessageFormat.TSV, workers=1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{cpu:.3f} {wall:.3f} {source.stat().st_size} {len(texts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 20000, 40000])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data or Path(
        os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    if args.one:
        _one(args.one[0], int(args.one[1]), data)
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for n in args.sizes:
        got = {}
        for mode in ("numpy", "kernel"):
            out = subprocess.run(
                [sys.executable, __file__, "--data", str(data), "--one", mode, str(n)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            got[mode] = (float(out[0]), float(out[1]))
            size, count = int(out[2]), int(out[3])
        (np_cpu, np_wall), (k_cpu, k_wall) = got["numpy"], got["kernel"]
        print(
            f"{count:>7,} distinct long ({size / 2**20:5.1f} MiB): NumPy path {np_cpu:6.2f} CPU s "
            f"{np_wall:6.2f} s wall; kernel loaded at the call {k_cpu:6.2f} CPU s "
            f"{k_wall:6.2f} s wall; kernel - NumPy {k_cpu - np_cpu:+.2f} CPU s "
            f"{k_wall - np_wall:+.2f} s wall   (load {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
