"""Column batches the generators produce before they become DataFrames.

A batch is a dict of equally long numpy arrays (plus, for SMS, a Polars text column). Numbers
are node ids of the ``Directory``; enumerations are small integer codes into the tuples below;
-1 means null. Ground-truth columns (campaign, role, exposure, loss) travel with the records
and are split off when a chunk is emitted, so record ids and truth always agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import ExposureKind, Ingress, ReleaseCause

__all__ = [
    "CALL_COLUMNS",
    "CAUSES",
    "EXPOSURES",
    "INGRESSES",
    "ROLES",
    "SMS_COLUMNS",
    "TRUNKS",
    "Batch",
    "concat",
    "new_batch",
    "take",
    "trunk",
]

CAUSES: tuple[str, ...] = tuple(c.value for c in ReleaseCause)
INGRESSES: tuple[str, ...] = tuple(i.value for i in Ingress)
EXPOSURES: tuple[str, ...] = tuple(e.value for e in ExposureKind)
ROLES: tuple[str, ...] = ("fraud_call", "fraud_sms", "callback")

TRUNKS: tuple[str, ...] = (
    "onnet",
    "dom-ic-1",
    "dom-ic-2",
    "dom-voip-1",
    "intl-gw-1",
    "intl-gw-2",
    "intl-gw-3",
    "sms-onnet",
    "sms-ic-1",
    "sms-port-1",
    "sms-port-2",
    "sms-intl-1",
)
"""Route names: on-net, domestic interconnects, a domestic VoIP interconnect, international
gateways, and SMS routes (on-net SMSC, interconnect, 106-port aggregators, international)."""


def trunk(name: str) -> int:
    """Code of a trunk name."""
    return TRUNKS.index(name)


Batch = dict[str, "npt.NDArray[Any] | pl.Series"]

CALL_COLUMNS: dict[str, tuple[type, float | int | bool]] = {
    "caller": (np.int64, -1),
    "callee": (np.int64, -1),
    "t_us": (np.int64, 0),
    "ring": (np.int32, 0),
    "dur": (np.int32, 0),
    "answered": (np.bool_, False),
    "cause": (np.int8, 0),
    "ingress": (np.int8, 0),
    "trunk": (np.int16, 0),
    "cell": (np.int64, -1),
    "imei": (np.int64, -1),
    "imsi": (np.int64, -1),
    "callee_cell": (np.int64, -1),
    "attest": (np.int8, -1),
    "campaign": (np.int16, -1),
    "role": (np.int8, -1),
    "exposure": (np.int8, -1),
    "exposed_us": (np.int64, -1),
    "loss_us": (np.int64, -1),
    "loss_cny": (np.float64, np.nan),
    "parent_us": (np.int64, -1),  # callbacks: start of the fraud call they return
}
"""Internal call columns: dtype and fill value."""

SMS_COLUMNS: dict[str, tuple[type, float | int | bool]] = {
    "caller": (np.int64, -1),  # sender node
    "callee": (np.int64, -1),  # recipient node
    "t_us": (np.int64, 0),
    "ingress": (np.int8, 0),
    "trunk": (np.int16, 0),
    "cell": (np.int64, -1),
    "campaign": (np.int16, -1),
    "role": (np.int8, -1),
    "exposure": (np.int8, -1),
    "exposed_us": (np.int64, -1),
    "loss_us": (np.int64, -1),
    "loss_cny": (np.float64, np.nan),
}
"""Internal SMS columns (plus a ``text`` Polars string column)."""


def new_batch(
    columns: dict[str, tuple[type, float | int | bool]],
    n: int,
    values: dict[str, npt.NDArray[Any] | int | float | bool],
) -> Batch:
    """A batch of ``n`` rows: given values (arrays or scalars), defaults elsewhere.

    SMS batches (``columns is SMS_COLUMNS``) also get a ``text`` column, all null; set it with
    ``batch["text"] = series``.
    """
    out: Batch = {}
    for name, (dtype, fill) in columns.items():
        v = values.get(name, fill)
        arr: npt.NDArray[Any] = np.empty(n, dtype=dtype)
        arr[:] = v
        out[name] = arr
    unknown = set(values) - set(columns)
    if unknown:
        raise KeyError(f"unknown batch columns {sorted(unknown)}")
    if columns is SMS_COLUMNS:
        out["text"] = pl.Series([None] * n, dtype=pl.String)
    return out


def concat(batches: list[Batch], columns: dict[str, tuple[type, float | int | bool]]) -> Batch:
    """Concatenate batches column by column (an empty batch if none)."""
    if not batches:
        return new_batch(columns, 0, {})
    out: Batch = {}
    for name in batches[0]:
        parts = [b[name] for b in batches]
        if isinstance(parts[0], pl.Series):
            out[name] = pl.concat([p for p in parts if isinstance(p, pl.Series)], rechunk=True)
        else:
            out[name] = np.concatenate([np.asarray(p) for p in parts])
    return out


def take(batch: Batch, idx: npt.NDArray[Any]) -> Batch:
    """Rows ``idx`` of a batch."""
    out: Batch = {}
    for name, col in batch.items():
        if isinstance(col, pl.Series):
            out[name] = col.gather(pl.Series(idx, dtype=pl.Int64))
        else:
            out[name] = col[idx]
    return out
