"""Release tooling: retrain the shipped SMS model into src/telewarden/data/sms/default_model.npz.

Fits the shipped protocol on all of zh_sms + uci_sms (the only sets whose terms allow shipping a
model trained on them; see docs/model-card-sms.md) through
``telewarden.services.sms_training.train_default_model``. It writes into the source tree, so it
lives here and not in the installed command. Reads ../shared/data (or TELEWARDEN_SHARED_DATA).

Run: uv run python scripts/train_default_sms_model.py [--data DIR] [--output FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from telewarden.adapters.clock import SystemClock
from telewarden.services.sms_training import train_default_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("TELEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_OUTPUT = ROOT / "src" / "telewarden" / "data" / "sms" / "default_model.npz"


def main(argv: list[str] | None = None) -> int:
    """Train, write the model file, print its size and threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="model file to write")
    args = parser.parse_args(argv)
    print("training the shipped model on zh_sms + uci_sms", file=sys.stderr)
    report = train_default_model(
        args.data,
        args.output,
        clock=SystemClock(),
        command="uv run python scripts/train_default_sms_model.py",
    )
    print(
        f"trained on {report.n_train} messages ({report.n_positive} spam) in "
        f"{report.duration_s:.0f} s; threshold {report.threshold:.2f}; "
        f"{report.size_bytes / 1e6:.1f} MB -> {report.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
