"""Exact path-dependent TreeSHAP of a LightGBM model from per-leaf subset tables.

What belongs here: reading a LightGBM text model into flat arrays, the per-leaf tables and the
compiled per-row kernel that gives, to rounding, exactly what LightGBM's ``pred_contrib``
gives (the same algorithm, Lundberg et al. 2020, reorganised), about fifty times cheaper a row
(``bench/scoring.py``).

Why it is cheaper. Path-dependent TreeSHAP credits each leaf's value ``v`` to the distinct
features ``F`` on its root-to-leaf path (``d = |F|``). For a feature ``j`` of ``F`` let ``z_j``
be the product, over the splits on ``j`` along the path, of ``cover(child on the path) /
cover(node)`` (LightGBM's covers are the training-data counts ``internal_count`` and
``leaf_count``), and for a row let ``A`` be the features of ``F`` whose every split on the path
the row follows. The leaf's game is ``f(S) = v * prod_{j in S} [j in A] * prod_{j in F - S}
z_j``, so its Shapley values depend on the row only through ``A``. With ``w(s) = s! (d-1-s)! /
d!`` and::

    H(B) = -v * sum_{S subset of B} w(|S|) * prod_{j in B - S} z_j
    M(B) = Z(F - B) * H(B),   Z(C) = prod_{j in C} z_j

the leaf adds ``M(A)`` to each feature of ``F`` outside ``A`` and ``-((1 - z_i) / z_i) *
M(A - {i})`` to each ``i`` in ``A`` (FastTreeSHAP v2, Yang 2021, written per leaf). ``M`` is
tabulated once per model for every leaf and every subset of its features (``2 ** d`` floats a
leaf: 10.5 million, 84 MB, for the shipped 700-tree model), so a row costs, per leaf, one table
read per path feature (``M(A - {i})`` for ``i`` in ``A``, ``M(A)`` for the others: both the
table at ``A`` with ``i``'s bit cleared), instead of LightGBM's ``O(depth ** 2)`` path
extensions and unwindings. The row's ``A`` at every leaf comes from one pass over the tree's
nodes (see :func:`_explain_rows`).

A cover of zero (``z_i = 0``, which LightGBM's own recursion divides by) needs no division:
then every term of the leaf vanishes unless the row follows ``i``, and when it does, ``i``'s
own term is ``-Z(F - A) * H(A - {i})``, which is ``M(A - {i})`` with the zero left out of
``Z``. The tables are built that way (zero ``z`` left out of ``Z``, coefficient 1 for ``i``).

Decisions follow LightGBM's numerical splits exactly: ``value <= threshold`` goes left; a
missing value (NaN) goes the default way under missing type ``NaN``, counts as zero under the
other two; under missing type ``Zero`` a zero goes the default way; and, as LightGBM's predictor
drops them from a dense row, values within ``1e-35`` of zero are zero. Categorical splits,
linear trees, multiclass and averaged (``rf``) models are refused with a
:class:`~telewarden.core.errors.ConfigurationError`: the scorer trains none of them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

from telewarden.core.errors import ConfigurationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.int32]
FlagArray = npt.NDArray[np.uint8]

ZERO_THRESHOLD = float(np.float32(1e-35))
"""LightGBM's ``kZeroThreshold`` (a C ``float``): what its predictor and its ``Zero`` missing
type take for zero."""

MAX_TABLE_FLOATS = 1 << 27
"""Largest table the builder accepts (1 GiB of float64): deep trees (a random forest's) have
leaves with dozens of path features, whose ``2 ** d`` tables would not fit; LightGBM's own
``pred_contrib`` remains for those."""

ROW_BLOCK = 512
"""Rows the kernel takes through each tree together, so that a leaf's table is read from cache
by all of them (the tables of a 700-tree model are tens of megabytes)."""

_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(function: _F) -> _F:
    """Numba-compile ``function`` to native code that releases the GIL, cached on disk.

    The cast keeps the signature for mypy (numba's decorators are untyped).
    """
    return cast(_F, numba.njit(cache=True, nogil=True)(function))


@dataclass(frozen=True, slots=True)
class _Tree:
    """One tree of the LightGBM text model, as parsed (children ``< 0`` are leaves ``~child``)."""

    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left_child: list[int]
    right_child: list[int]
    leaf_value: list[float]
    leaf_count: list[int]
    internal_count: list[int]


@dataclass(frozen=True, slots=True)
class TreeShapTables:
    """A LightGBM model's trees and per-leaf TreeSHAP tables, flattened for the kernel.

    Build with :func:`build_tables`; explain rows with :meth:`contributions`. Within a tree,
    nodes are numbered in preorder (a parent before its children) and leaves as LightGBM
    numbers them; every ``*_start`` array has one more entry than the things it delimits.

    Attributes
    ----------
    n_features : int
        Features of the model; contributions have one more column, the bias.
    bias : float
        The model's expected raw score: the sum over trees of the cover-weighted mean leaf value
        (LightGBM's ``ExpectedValue``), the last column of every row.
    tree_node_start, tree_leaf_start : numpy.ndarray of int64
        Each tree's first node and first leaf in the flat arrays.
    node_feature, node_threshold, node_default_left, node_missing
        Each internal node's split: feature, threshold, default direction, missing type
        (0 none, 1 zero, 2 NaN).
    node_bit : numpy.ndarray of int64
        ``1 << k``, ``k`` the position of the node's feature among the distinct features of
        its path (the same for every leaf below it).
    node_left, node_right : numpy.ndarray of int32
        Children: an internal node's number in the tree, or ``~leaf`` for a leaf.
    leaf_feature_start : numpy.ndarray of int64
        Each leaf's first entry in ``path_feature`` and ``path_coefficient``.
    path_feature, path_coefficient
        Each leaf's distinct path features in order of position, and ``(1 - z) / z`` for each
        (``1`` where ``z`` is zero).
    leaf_zero_mask : numpy.ndarray of int64
        The leaf's features whose ``z`` is zero: a row that does not follow all of them gets
        nothing from the leaf.
    leaf_table_start : numpy.ndarray of int64
        Each leaf's table in ``table`` (``2 ** d`` entries, bit ``k`` = position ``k``).
    table : numpy.ndarray of float64
        ``M(B) = Z(F - B) * H(B)`` for every leaf and subset ``B`` of its path features (zero
        ``z`` left out of ``Z``).
    """

    n_features: int
    bias: float
    tree_node_start: IntArray
    tree_leaf_start: IntArray
    node_feature: SmallIntArray
    node_threshold: FloatArray
    node_default_left: FlagArray
    node_missing: FlagArray
    node_bit: IntArray
    node_left: SmallIntArray
    node_right: SmallIntArray
    leaf_feature_start: IntArray
    path_feature: SmallIntArray
    path_coefficient: FloatArray
    leaf_zero_mask: IntArray
    leaf_table_start: IntArray
    table: FloatArray

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes (almost all of it the tables)."""
        return sum(
            int(value.nbytes)
            for value in (getattr(self, name) for name in self.__slots__)
            if isinstance(value, np.ndarray)
        )

    def contributions(self, x: FloatArray, threads: int = 1) -> FloatArray:
        """Per-row TreeSHAP values: one column per feature, then the bias.

        Parameters
        ----------
        x : numpy.ndarray of float64, shape (rows, n_features)
            Feature rows, NaN for missing.
        threads : int
            Threads the rows are split over (a row's values do not depend on it); ``0`` takes
            one per CPU.

        Returns
        -------
        numpy.ndarray of float64, shape (rows, n_features + 1)
            What LightGBM's ``predict(x, pred_contrib=True)`` returns, to rounding; each row
            adds up to the row's raw score.
        """
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ConfigurationError(
                f"rows have {x.shape[-1]} features, the model {self.n_features}"
            )
        out = np.zeros((x.shape[0], self.n_features + 1), dtype=np.float64)
        out[:, -1] = self.bias
        wanted = threads if threads > 0 else (os.cpu_count() or 1)
        workers = max(1, min(wanted, -(-len(x) // ROW_BLOCK)))
        bounds = np.linspace(0, len(x), workers + 1).astype(np.int64)

        def run(part: int) -> None:
            _explain_rows(
                x,
                out,
                int(bounds[part]),
                int(bounds[part + 1]),
                self.tree_node_start,
                self.tree_leaf_start,
                self.node_feature,
                self.node_threshold,
                self.node_default_left,
                self.node_missing,
                self.node_bit,
                self.node_left,
                self.node_right,
                self.leaf_feature_start,
                self.path_feature,
                self.path_coefficient,
                self.leaf_zero_mask,
                self.leaf_table_start,
                self.table,
            )

        if workers == 1:
            run(0)
        else:
            # The kernel releases the GIL and each worker writes its own rows of ``out``.
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, range(workers)))
        return out


# -- reading the LightGBM text model -------------------------------------------------------------


def _parse_model(model_text: str) -> tuple[int, list[_Tree]]:
    """Feature count and trees of a LightGBM text model; refuses what the kernel cannot do."""
    head, _, rest = model_text.partition("\nTree=")
    header_lines = head.splitlines()
    header = dict(line.split("=", 1) for line in header_lines if "=" in line)
    if "max_feature_idx" not in header:
        raise ConfigurationError("not a LightGBM text model (no max_feature_idx)")
    if int(header.get("num_tree_per_iteration", "1")) != 1:
        raise ConfigurationError("TreeSHAP tables explain single-output models only")
    if "average_output" in header_lines:
        raise ConfigurationError("TreeSHAP tables do not explain averaged (rf) models")
    trees = []
    for block in rest.partition("end of trees")[0].split("\nTree="):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "num_leaves" not in fields:
            continue
        if int(fields.get("num_cat", "0")) > 0:
            raise ConfigurationError("TreeSHAP tables do not handle categorical splits")
        if int(fields.get("is_linear", "0")) != 0:
            raise ConfigurationError("TreeSHAP tables do not handle linear trees")
        numbers = {name: fields.get(name, "").split() for name in _Tree.__slots__}
        trees.append(
            _Tree(
                split_feature=[int(v) for v in numbers["split_feature"]],
                threshold=[float(v) for v in numbers["threshold"]],
                decision_type=[int(v) for v in numbers["decision_type"]],
                left_child=[int(v) for v in numbers["left_child"]],
                right_child=[int(v) for v in numbers["right_child"]],
                leaf_value=[float(v) for v in numbers["leaf_value"]],
                leaf_count=[int(v) for v in numbers["leaf_count"]],
                internal_count=[int(v) for v in numbers["internal_count"]],
            )
        )
    if not trees:
        raise ConfigurationError("the LightGBM model has no trees")
    return int(header["max_feature_idx"]) + 1, trees


def _expected_value(tree: _Tree) -> float:
    """LightGBM's ``Tree::ExpectedValue``: leaf values weighted by their share of the cover."""
    if len(tree.leaf_value) == 1:
        return tree.leaf_value[0]
    total = float(tree.internal_count[0])
    return sum(
        (count / total) * value
        for count, value in zip(tree.leaf_count, tree.leaf_value, strict=True)
    )


def _shapley_weights(d: int) -> FloatArray:
    """``w(s) = s! (d-1-s)! / d!`` for ``s`` in ``0 .. d-1``, each rounded once from exact."""
    return np.array(
        [
            float(Fraction(math.factorial(s) * math.factorial(d - 1 - s), math.factorial(d)))
            for s in range(d)
        ],
        dtype=np.float64,
    )


# -- building the tables --------------------------------------------------------------------------


@dataclass
class _Flat:
    """The flat arrays :func:`build_tables` fills, as lists, tree by tree."""

    tree_node_start: list[int] = field(default_factory=lambda: [0])
    tree_leaf_start: list[int] = field(default_factory=lambda: [0])
    node_feature: list[int] = field(default_factory=list)
    node_threshold: list[float] = field(default_factory=list)
    node_default_left: list[int] = field(default_factory=list)
    node_missing: list[int] = field(default_factory=list)
    node_bit: list[int] = field(default_factory=list)
    node_left: list[int] = field(default_factory=list)
    node_right: list[int] = field(default_factory=list)
    leaf_feature_start: list[int] = field(default_factory=lambda: [0])
    leaf_value: list[float] = field(default_factory=list)
    leaf_zero_mask: list[int] = field(default_factory=list)
    path_feature: list[int] = field(default_factory=list)
    path_z: list[float] = field(default_factory=list)

    def add_tree(self, tree: _Tree) -> None:
        """Append ``tree``: nodes renumbered in preorder, each leaf's distinct path features in
        the order they first appear from the root (so a node's position holds for every leaf
        below it)."""
        if len(tree.leaf_value) > 1:
            preorder: list[int] = []
            stack = [0]
            while stack:
                node = stack.pop()
                preorder.append(node)
                stack.extend(c for c in (tree.right_child[node], tree.left_child[node]) if c >= 0)
            number = {node: i for i, node in enumerate(preorder)}
            # Per internal node: positions of the features above it, and its path's
            # (feature, cover fraction) steps.
            positions: dict[int, dict[int, int]] = {0: {}}
            steps: dict[int, list[tuple[int, float]]] = {0: []}
            leaf_steps: dict[int, list[tuple[int, float]]] = {}
            for node in preorder:
                decision = tree.decision_type[node]
                if decision & 1:
                    raise ConfigurationError("TreeSHAP tables do not handle categorical splits")
                feature = tree.split_feature[node]
                above = positions[node]
                position = above.get(feature, len(above))
                self.node_feature.append(feature)
                self.node_threshold.append(tree.threshold[node])
                self.node_default_left.append((decision >> 1) & 1)
                self.node_missing.append((decision >> 2) & 3)
                self.node_bit.append(1 << position)
                for child, codes in (
                    (tree.left_child[node], self.node_left),
                    (tree.right_child[node], self.node_right),
                ):
                    cover = tree.leaf_count[~child] if child < 0 else tree.internal_count[child]
                    step = [*steps[node], (feature, cover / tree.internal_count[node])]
                    if child < 0:
                        codes.append(child)  # ~leaf, LightGBM's own leaf number
                        leaf_steps[~child] = step
                    else:
                        codes.append(number[child])
                        positions[child] = {**above, feature: position}
                        steps[child] = step
            for leaf in range(len(tree.leaf_value)):
                z: dict[int, float] = {}  # in order of first appearance: the positions
                for feature, fraction in leaf_steps[leaf]:
                    z[feature] = z.get(feature, 1.0) * fraction
                zero_mask = 0
                for k, (feature, product) in enumerate(z.items()):
                    self.path_feature.append(feature)
                    self.path_z.append(product)
                    zero_mask |= (product == 0.0) << k
                self.leaf_feature_start.append(len(self.path_feature))
                self.leaf_value.append(tree.leaf_value[leaf])
                self.leaf_zero_mask.append(zero_mask)
        # A single-leaf tree only adds its value to the bias (LightGBM runs no TreeSHAP on it).
        self.tree_node_start.append(len(self.node_feature))
        self.tree_leaf_start.append(len(self.leaf_value))


def build_tables(model_text: str) -> TreeShapTables:
    """Flatten a LightGBM text model and tabulate ``M`` for every leaf and path-feature subset.

    Parameters
    ----------
    model_text : str
        ``Booster.model_to_string()`` of a single-output model with numerical splits.

    Returns
    -------
    TreeShapTables

    Raises
    ------
    ConfigurationError
        For categorical splits, linear trees, multiclass or ``rf`` models, or tables over
        :data:`MAX_TABLE_FLOATS` floats (deep trees).
    """
    n_features, trees = _parse_model(model_text)
    flat = _Flat()
    for tree in trees:
        flat.add_tree(tree)
    feature_start = np.asarray(flat.leaf_feature_start, dtype=np.int64)
    depth = np.diff(feature_start)
    table_start = np.zeros(len(depth) + 1, dtype=np.int64)
    if len(depth) and int(depth.max()) > 40:
        raise ConfigurationError(f"a leaf has {int(depth.max())} distinct path features")
    np.cumsum(np.left_shift(np.int64(1), depth), out=table_start[1:])
    if table_start[-1] > MAX_TABLE_FLOATS:
        raise ConfigurationError(
            f"TreeSHAP tables would hold {int(table_start[-1]):,} floats (deepest leaf: "
            f"{int(depth.max())} path features), over {MAX_TABLE_FLOATS:,}"
        )
    max_depth = int(depth.max()) if len(depth) else 0
    weights = np.zeros((max_depth + 1, max_depth + 1), dtype=np.float64)
    for d in range(1, max_depth + 1):
        weights[d, :d] = _shapley_weights(d)
    z = np.asarray(flat.path_z, dtype=np.float64)
    table = np.empty(int(table_start[-1]), dtype=np.float64)
    _fill_tables(
        np.asarray(flat.leaf_value, dtype=np.float64), feature_start, z, weights, table_start, table
    )
    with np.errstate(divide="ignore"):
        coefficient = np.where(z == 0.0, 1.0, (1.0 - z) / np.where(z == 0.0, 1.0, z))
    return TreeShapTables(
        n_features=n_features,
        bias=float(math.fsum(_expected_value(tree) for tree in trees)),
        tree_node_start=np.asarray(flat.tree_node_start, dtype=np.int64),
        tree_leaf_start=np.asarray(flat.tree_leaf_start, dtype=np.int64),
        node_feature=np.asarray(flat.node_feature, dtype=np.int32),
        node_threshold=np.asarray(flat.node_threshold, dtype=np.float64),
        node_default_left=np.asarray(flat.node_default_left, dtype=np.uint8),
        node_missing=np.asarray(flat.node_missing, dtype=np.uint8),
        node_bit=np.asarray(flat.node_bit, dtype=np.int64),
        node_left=np.asarray(flat.node_left, dtype=np.int32),
        node_right=np.asarray(flat.node_right, dtype=np.int32),
        leaf_feature_start=feature_start,
        path_feature=np.asarray(flat.path_feature, dtype=np.int32),
        path_coefficient=coefficient.astype(np.float64),
        leaf_zero_mask=np.asarray(flat.leaf_zero_mask, dtype=np.int64),
        leaf_table_start=table_start,
        table=table,
    )


@_compiled
def _fill_tables(
    leaf_value: FloatArray,
    leaf_feature_start: IntArray,
    z: FloatArray,
    weights: FloatArray,
    leaf_table_start: IntArray,
    table: FloatArray,
) -> None:
    """``M(B) = Z(F - B) * H(B)`` for every leaf and subset ``B`` (bit ``k`` = position ``k``).

    First ``Z(F - B)``, the product of the nonzero ``z`` outside ``B``, from the largest subset
    down (each from ``B`` plus its lowest missing feature). Then ``H``: ``sum_{S subset of B}
    w(|S|) prod_{B - S} z`` is ``sum_m w(|B| - m) e_m(z_B)``, with ``e_m`` the elementary
    symmetric polynomials of the ``z`` in ``B``; subsets are visited depth first, each from its
    parent (itself less its highest feature ``j``), whose polynomial times ``(1 + z_j t)`` is
    its own: ``O(d)`` a subset, ``O(d ** 2)`` memory. (``M`` of the full set is never read.)
    """
    max_d = weights.shape[0] - 1
    poly = np.zeros((max_d + 1, max_d + 1), dtype=np.float64)
    subset_at = np.zeros(max_d + 1, dtype=np.int64)
    next_feature = np.zeros(max_d + 1, dtype=np.int64)
    for leaf in range(len(leaf_value)):
        first = leaf_feature_start[leaf]
        d = leaf_feature_start[leaf + 1] - first
        base = leaf_table_start[leaf]
        v = leaf_value[leaf]
        full = (np.int64(1) << d) - 1
        table[base + full] = 1.0
        for subset in range(full - 1, -1, -1):
            lowest = 0
            while subset & (np.int64(1) << lowest):
                lowest += 1
            zl = z[first + lowest]
            outside = table[base + (subset | (np.int64(1) << lowest))]
            table[base + subset] = outside * zl if zl != 0.0 else outside
        poly[0, 0] = 1.0
        table[base] *= -v * weights[d, 0]
        level = 0
        subset_at[0] = 0
        next_feature[0] = 0
        while level >= 0:
            j = next_feature[level]
            if j >= d:
                level -= 1
                continue
            next_feature[level] = j + 1
            zj = z[first + j]
            # The child of ``subset_at[level]`` with feature ``j`` added has ``level + 1``
            # features: its polynomial is the parent's times (1 + zj t).
            size = level + 1
            poly[size, 0] = poly[level, 0]
            for m in range(1, size):
                poly[size, m] = poly[level, m] + zj * poly[level, m - 1]
            poly[size, size] = zj * poly[level, level]
            total = 0.0
            for m in range(size + 1):
                total += weights[d, size - m] * poly[size, m]
            child = subset_at[level] | (np.int64(1) << j)
            table[base + child] *= -v * total
            level = size
            subset_at[level] = child
            next_feature[level] = j + 1


# -- the per-row kernel ---------------------------------------------------------------------------


@_compiled
def _explain_rows(
    x: FloatArray,
    out: FloatArray,
    row_from: int,
    row_to: int,
    tree_node_start: IntArray,
    tree_leaf_start: IntArray,
    node_feature: SmallIntArray,
    node_threshold: FloatArray,
    node_default_left: FlagArray,
    node_missing: FlagArray,
    node_bit: IntArray,
    node_left: SmallIntArray,
    node_right: SmallIntArray,
    leaf_feature_start: IntArray,
    path_feature: SmallIntArray,
    path_coefficient: FloatArray,
    leaf_zero_mask: IntArray,
    leaf_table_start: IntArray,
    table: FloatArray,
) -> None:
    """Add the TreeSHAP values of rows ``row_from .. row_to`` into ``out`` (bias aside).

    Rows go through the trees ``ROW_BLOCK`` at a time, their values gathered feature by
    feature in ``gathered`` (so that a leaf's updates for consecutive rows are adjacent and
    the inner loops run over rows, without branches). Per tree:

    1. the nodes in preorder hand each child the path features its row has left (``missed``:
       the parent's, plus the node's own when the row goes the other way), so a leaf's subset
       ``A`` is its features less those;
    2. per leaf and path feature ``k``, one table read: ``M(A - {k})`` when ``k`` is in ``A``
       (times ``-(1 - z_k) / z_k``), ``M(A)`` when it is not (times one). Both index the table
       at ``A`` with ``k``'s bit cleared, so every term is the same read and a select of its
       coefficient: no separate read of ``M(A)`` a leaf, no pass summing it up the tree.
    """
    n_trees = len(tree_node_start) - 1
    widest_nodes = 1
    widest_leaves = 1
    for tree in range(n_trees):
        widest_nodes = max(widest_nodes, tree_node_start[tree + 1] - tree_node_start[tree])
        widest_leaves = max(widest_leaves, tree_leaf_start[tree + 1] - tree_leaf_start[tree])
    missed_node = np.zeros((widest_nodes, ROW_BLOCK), dtype=np.int64)
    missed_leaf = np.zeros((widest_leaves, ROW_BLOCK), dtype=np.int64)
    subsets = np.zeros(ROW_BLOCK, dtype=np.int64)
    counts = np.zeros(ROW_BLOCK, dtype=np.float64)
    gathered = np.zeros((out.shape[1], ROW_BLOCK), dtype=np.float64)
    columns = np.zeros((x.shape[1], ROW_BLOCK), dtype=np.float64)
    for block in range(row_from, row_to, ROW_BLOCK):
        rows = min(ROW_BLOCK, row_to - block)
        # The block's values feature by feature (a node reads one feature of every row:
        # adjacent, not a row's length apart), those within ZERO_THRESHOLD of zero made zero
        # as LightGBM's predictor drops them from a dense row.
        for r in range(rows):
            for feature in range(x.shape[1]):
                value = x[block + r, feature]
                columns[feature, r] = 0.0 if -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD else value
        for tree in range(n_trees):
            first_node = tree_node_start[tree]
            n_nodes = tree_node_start[tree + 1] - first_node
            missed_node[0, :] = 0
            for node in range(n_nodes):
                at = first_node + node
                threshold = node_threshold[at]
                missing = node_missing[at]
                default_left = node_default_left[at] == 1
                bit = node_bit[at]
                left = node_left[at]
                right = node_right[at]
                # Rows of the scratch arrays, taken once a node: indexing them in the loop by
                # a signed child number made numba re-check for negative indices every row.
                values = columns[node_feature[at]]
                missed_here = missed_node[node]
                missed_left = missed_node[left] if left >= 0 else missed_leaf[~left]
                missed_right = missed_node[right] if right >= 0 else missed_leaf[~right]
                for r in range(rows):
                    value = values[r]
                    if missing == _MISSING_NAN:
                        goes_left = default_left if math.isnan(value) else value <= threshold
                    else:
                        if math.isnan(value):
                            value = 0.0
                        if missing == _MISSING_ZERO and value == 0.0:
                            goes_left = default_left
                        else:
                            goes_left = value <= threshold
                    missed = missed_here[r]
                    # Both values, then both stores: the same loop with the selects written
                    # inside the stores compiled to code taking about 1.5 times as long
                    # (measured).
                    to_left = missed if goes_left else missed | bit
                    to_right = missed | bit if goes_left else missed
                    missed_left[r] = to_left
                    missed_right[r] = to_right
            first_leaf = tree_leaf_start[tree]
            for leaf in range(tree_leaf_start[tree + 1] - first_leaf):
                at = first_leaf + leaf
                first = leaf_feature_start[at]
                d = leaf_feature_start[at + 1] - first
                full = (np.int64(1) << d) - 1
                zero_mask = leaf_zero_mask[at]
                leaf_table = table[leaf_table_start[at] :]
                if zero_mask == 0:
                    for r in range(rows):
                        subsets[r] = full & ~missed_leaf[leaf, r]
                else:
                    for r in range(rows):
                        subset = full & ~missed_leaf[leaf, r]
                        subsets[r] = subset
                        # A zero cover off the row's way makes every term of the leaf zero.
                        counts[r] = 1.0 if (subset & zero_mask) == zero_mask else 0.0
                for k in range(d):
                    feature = path_feature[first + k]
                    inside = -path_coefficient[first + k]
                    bit = np.int64(1) << k
                    # The index is unsigned so that numba does not test it for a negative
                    # (wrap-around) index on every read, and into the leaf's own slice (one
                    # addition fewer a read); leaves without a zero cover (almost all) skip
                    # ``counts``.
                    if zero_mask == 0:
                        for r in range(rows):
                            subset = subsets[r]
                            weight = inside if subset & bit else 1.0
                            read = np.uint64(subset & ~bit)
                            gathered[feature, r] += weight * leaf_table[read]
                    else:
                        for r in range(rows):
                            subset = subsets[r]
                            weight = (inside if subset & bit else 1.0) * counts[r]
                            read = np.uint64(subset & ~bit)
                            gathered[feature, r] += weight * leaf_table[read]
        for r in range(rows):
            for feature in range(gathered.shape[0]):
                out[block + r, feature] += gathered[feature, r]
                gathered[feature, r] = 0.0
