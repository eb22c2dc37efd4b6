"""Score the SMS check sets with whatever classifier and model the imported package ships.

Reads the check sets from this checkout (``src/telewarden/data/sms/check_*.tsv``) and
classifies them with ``telewarden``'s shipped model and rules as imported, so the same script
measures the code before a change (run it with ``PYTHONPATH`` pointing at an older ``src``)
and after. ``telewarden eval sms`` prints the same counts for the current code.

Run: uv run python scripts/sms_check_sets.py
"""

from __future__ import annotations

import collections
import csv
import sys
from pathlib import Path

from telewarden.adapters.sms_model import load_default_model
from telewarden.core.sms.inspector import SmsClassifier

SETS = Path(__file__).resolve().parents[1] / "src" / "telewarden" / "data" / "sms"
NAMES = (
    "check_en_modern.tsv",
    "check_en_types.tsv",
    "check_zh_fbs.tsv",
    "check_wallet_scams.tsv",
    "check_legit_notices.tsv",
)


def main() -> int:
    """Print label -> verdict counts per check set."""
    clf = SmsClassifier(load_default_model())
    for name in NAMES:
        with (SETS / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        results = clf.classify_many([r["text"] for r in rows])
        counts = collections.Counter(
            (r["label"], str(x.verdict)) for r, x in zip(rows, results, strict=True)
        )
        cells = ", ".join(
            f"{label} {verdict}: {counts[(label, verdict)]}"
            for label in ("spam", "ham")
            for verdict in ("ok", "spam", "scam")
            if any(r["label"] == label for r in rows)
        )
        print(f"{name}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
