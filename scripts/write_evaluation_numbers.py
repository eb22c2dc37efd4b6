"""Release tooling: rewrite the eval-numbers block of docs/evaluation.md with fresh figures.

The figures are those of ``telewarden eval numbers`` (``telewarden.services.evaluation_numbers``):
the cross-validated Sichuan scorer and the simulator's time to detect. Only the text between
``<!-- BEGIN eval-numbers ...-->`` and ``<!-- END eval-numbers -->`` changes; the markers are
checked before the long run (about 400 s with the Sichuan part on two shared cores).

Run: uv run python scripts/write_evaluation_numbers.py [--skip-sichuan] [--sim-seeds 3,4,5]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from telewarden.core.errors import InvalidInputError
from telewarden.services.evaluation_numbers import (
    NumbersEvaluation,
    evaluate_sichuan,
    evaluate_simulator,
)

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"<!-- BEGIN eval-numbers[^>]*-->")
END = "<!-- END eval-numbers -->"
COMMAND = "uv run python scripts/write_evaluation_numbers.py"


def block(text: str, doc: Path) -> tuple[int, int]:
    """Where the eval-numbers block's body starts and ends in ``text``."""
    match = BEGIN.search(text)
    end = text.find(END)
    if match is None or end < match.end():
        raise InvalidInputError(f"{doc}: no eval-numbers block to rewrite")
    return match.end(), end


def replace_block(doc: Path, body: str) -> None:
    """Rewrite the block's body in ``doc`` (through a temporary file renamed into place)."""
    text = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    start, end = block(text, doc)
    temporary = doc.with_name(f".{doc.name}.tmp")
    temporary.write_text(text[:start] + "\n" + body.rstrip() + "\n" + text[end:], encoding="utf-8")
    temporary.replace(doc)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the evaluation and rewrite the block; 2 on bad input."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_data = os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "evaluation.md")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cv-seed", type=int, default=0)
    parser.add_argument("--sim-preset", default="tiny")
    parser.add_argument("--sim-seeds", default="3,4,5")
    parser.add_argument("--skip-sichuan", action="store_true")
    args = parser.parse_args(argv)
    try:
        doc: Path = args.doc
        block(doc.read_text(encoding="utf-8") if doc.is_file() else "", doc)  # fail early
        seeds = tuple(int(s) for s in args.sim_seeds.split(",") if s.strip())
        sichuan = None
        if not args.skip_sichuan:
            sichuan = evaluate_sichuan(
                args.data,
                folds=args.folds,
                seed=args.cv_seed,
                on_fold=lambda fold: print(f"fold fit {fold} done", file=sys.stderr),
            )
        result = NumbersEvaluation(
            simulator=evaluate_simulator(args.sim_preset, seeds), sichuan=sichuan, command=COMMAND
        )
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    body = result.to_markdown()
    print(body)
    replace_block(doc, body)
    print(f"-> {doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
