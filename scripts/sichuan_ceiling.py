"""How far other models and graph features go on the Sichuan numbers (research, not shipped).

Run: ``uv run python scripts/sichuan_ceiling.py [--seeds 0 1 2] [--data DIR]``.

The shipped scorer (``telewarden eval numbers``) reaches a cross-validated AUC of about 0.957
against the issue's goal of 0.96. This script measures, on the same 5-fold stratified splits
(outer seeds given by ``--seeds``), what else was tried, so that the claim "the ceiling of
these data is about 0.958" is a command, not a memory:

- graph feature sets for one LightGBM (the shipped boosting parameters, 600 rounds): the
  shipped ones (degree, known/fraud contacts and share), plus degree-normalised fraud and
  legitimate evidence and the mean degree of the contacts (``norm``), plus the contacts' mean
  fraud share (``2hop``), plus personalised PageRank from known fraud and known legitimate
  numbers (``ppr``), plus the contacts' mean first-stage score (``stacked``; a model on the 55
  features scores every number, out of fold inside the training part);
- model families on the 55 + ``norm`` features: boosting, LightGBM random forest, extra
  trees, logistic regression on normal-quantile features, k nearest neighbours, and rank
  averages of them.

Labels of the test fold never reach any feature: graph features of a training row use the
labels of the other inner folds (4-fold), those of a test row the training labels. Fraud F1 is
also given at the F1-best threshold chosen on the test folds themselves: an upper bound for
any threshold rule, not a figure to quote as a result.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer

from telewarden.core.features.sichuan import FEATURE_NAMES, align_to_published
from telewarden.core.models.number_scorer import DEFAULT_PARAMS, FOREST_PARAMS

GRAPH_SETS = ("shipped", "norm", "2hop", "ppr", "stacked")
FAMILIES = ("boost", "forest", "extra_trees", "logistic", "knn")
BLENDS = (
    ("boost", "forest"),
    ("boost", "forest", "logistic"),
    ("boost", "forest", "extra_trees", "logistic"),
)


def _load(root: Path) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    f = pl.read_csv(root / "sichuan" / "features.csv")
    e = pl.read_csv(root / "sichuan" / "edges.csv")
    index = {v: i for i, v in enumerate(f["node"].to_list())}
    src = np.array([index[v] for v in e["src"].to_list()])
    dst = np.array([index[v] for v in e["dst"].to_list()])
    n = f.height
    adj = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    x = align_to_published(f.lazy()).select(FEATURE_NAMES).collect().to_numpy().astype(float)
    return x, f["label"].to_numpy(), adj


def _graph(
    adj: sp.csr_matrix, y: np.ndarray, known: np.ndarray, extra: str, score: np.ndarray | None
) -> np.ndarray:
    deg = np.asarray(adj.sum(1)).ravel()
    kf = (known & (y == 1)).astype(float)
    kl = (known & (y == 0)).astype(float)
    fc, lc = adj @ kf, adj @ kl
    kc = fc + lc
    share = np.where(kc > 0, fc / np.maximum(kc, 1), np.nan)
    cols = [deg, kc, fc, share]
    if extra == "shipped":
        return np.column_stack(cols)
    inv = 1.0 / np.maximum(deg, 1)
    cols += [adj @ (kf * inv), adj @ (kl * inv), (adj @ deg) * inv]
    if extra == "2hop":
        cols.append((adj @ np.nan_to_num(share, nan=float(np.nanmean(share)))) * inv)
    elif extra == "ppr":
        walk = sp.diags(inv) @ adj
        for seeds in (kf, kl):
            start = seeds / max(seeds.sum(), 1.0)
            r = start.copy()
            for _ in range(10):
                r = 0.15 * start + 0.85 * (walk.T @ r)
            cols.append(r * len(y))
    elif extra == "stacked" and score is not None:
        v = np.where(known, y.astype(float), score)
        cols += [(adj @ v) * inv, adj @ v]
    return np.column_stack(cols)


def _boost(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, rounds: int = 600) -> np.ndarray:
    return np.asarray(lgb.train(DEFAULT_PARAMS, lgb.Dataset(xtr, ytr), rounds).predict(xte))


def _family(name: str, xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray) -> np.ndarray:
    if name == "forest":
        return np.asarray(lgb.train(FOREST_PARAMS, lgb.Dataset(xtr, ytr), 500).predict(xte))
    if name == "extra_trees":
        et = ExtraTreesClassifier(
            500, max_features=0.3, min_samples_leaf=2, n_jobs=1, random_state=0
        )
        return et.fit(np.nan_to_num(xtr, nan=-1), ytr).predict_proba(np.nan_to_num(xte, nan=-1))[
            :, 1
        ]
    prep = (
        SimpleImputer(strategy="median"),
        QuantileTransformer(n_quantiles=200, output_distribution="normal"),
    )
    if name == "logistic":
        model = make_pipeline(*prep, LogisticRegression(C=0.3, max_iter=2000))
    else:
        model = make_pipeline(*prep, KNeighborsClassifier(50, weights="distance"))
    return model.fit(xtr, ytr).predict_proba(xte)[:, 1]


def _best_f1(y: np.ndarray, p: np.ndarray) -> float:
    pr, rc, _ = precision_recall_curve(y, p)
    return float(np.max(2 * pr * rc / np.maximum(pr + rc, 1e-12)))


def run(x: np.ndarray, y: np.ndarray, adj: sp.csr_matrix, seed: int) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of every graph set (boosting) and every family (``norm``)."""
    n = len(y)
    oof: dict[str, np.ndarray] = {}
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        known = np.zeros(n, bool)
        known[tr] = True
        inner = list(StratifiedKFold(4, shuffle=True, random_state=2).split(x[tr], y[tr]))
        # First stage for "stacked": out of fold inside the training part, then for the rest.
        score = np.zeros(n)
        for a, b in inner:
            score[tr[b]] = _boost(x[tr[a]], y[tr[a]], x[tr[b]], 300)
        rest = np.setdiff1d(np.arange(n), tr)
        score[rest] = _boost(x[tr], y[tr], x[rest], 300)
        for extra in GRAPH_SETS:
            g = np.zeros((n, _graph(adj, y, known, extra, score).shape[1]))
            for a, b in inner:
                k2 = np.zeros(n, bool)
                k2[tr[a]] = True
                g[tr[b]] = _graph(adj, y, k2, extra, score)[tr[b]]
            g[te] = _graph(adj, y, known, extra, score)[te]
            xtr, xte = np.column_stack([x[tr], g[tr]]), np.column_stack([x[te], g[te]])
            boosted = _boost(xtr, y[tr], xte)
            oof.setdefault(f"graph:{extra}", np.zeros(n))[te] = boosted
            if extra == "norm":
                for fam in FAMILIES:
                    # The boosting family is the model just trained (same data, deterministic).
                    p = boosted if fam == "boost" else _family(fam, xtr, y[tr], xte)
                    # Ranks within the fold, so that rank averages mix families fairly.
                    oof.setdefault(f"family:{fam}", np.zeros(n))[te] = rankdata(p) / len(p)
    for blend in BLENDS:
        oof["blend:" + "+".join(blend)] = sum(oof[f"family:{f}"] for f in blend)
    return oof


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    root = args.data or Path(
        os.environ.get(
            "TELEWARDEN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    if not (root / "sichuan" / "features.csv").is_file():
        print(f"Sichuan data not found under {root} (pass --data)", file=sys.stderr)
        return 2
    x, y, adj = _load(root)
    started = time.perf_counter()
    table: dict[str, list[tuple[float, float]]] = {}
    for seed in args.seeds:
        for name, p in run(x, y, adj, seed).items():
            table.setdefault(name, []).append((roc_auc_score(y, p), _best_f1(y, p)))
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    seeds = ", ".join(map(str, args.seeds))
    print(
        f"| variant | AUC per outer seed ({seeds}) | mean AUC | best fraud F1 (mean, oracle threshold) |"
    )
    print("|---|---|---|---|")
    for name, rows in table.items():
        aucs = " / ".join(f"{a:.4f}" for a, _ in rows)
        print(
            f"| {name} | {aucs} | {np.mean([a for a, _ in rows]):.4f} | "
            f"{np.mean([f for _, f in rows]):.4f} |"
        )
    print(f"\n{len(y)} numbers, {int(y.sum())} fraud; {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
