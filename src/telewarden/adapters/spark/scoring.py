"""The number scorer over a Spark DataFrame of features, partition by partition.

The fitted :class:`~telewarden.core.models.number_scorer.NumberScorer` travels to the executors
as its :meth:`~telewarden.core.models.number_scorer.NumberScorer.to_dict` data (a broadcast
variable: sent once per executor, not once per task) and is rebuilt once per Python worker.
Each Arrow batch of a partition becomes a Polars frame and goes through the same
``score_many`` the embedded engine calls, so a number's score does not depend on the engine or
on how the rows were partitioned (LightGBM scores row by row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame

from telewarden.core.features.sichuan import KEY
from telewarden.core.models.number_scorer import NumberScorer

SCORES_SCHEMA = f"{KEY} string, score double, flagged boolean, reasons string"
"""The scores' Spark schema: the embedded engine's ``score_many`` columns."""

_ARROW_SCHEMA = pa.schema(
    [
        pa.field(KEY, pa.string()),
        pa.field("score", pa.float64()),
        pa.field("flagged", pa.bool_()),
        pa.field("reasons", pa.string()),
    ]
)

_WORKER_MODELS: dict[str, NumberScorer] = {}
"""Scorers rebuilt in this Python worker, by a key made per call (a worker serves many tasks)."""


def score_features(features: DataFrame, scorer: NumberScorer) -> DataFrame:
    """Score every row of ``features`` (``phone_no_m`` and the model's feature columns).

    Returns
    -------
    pyspark.sql.DataFrame
        ``phone_no_m``, ``score``, ``flagged`` and ``reasons`` (reasons for flagged rows only).
    """
    model = features.sparkSession.sparkContext.broadcast(scorer.to_dict())
    model_id = uuid.uuid4().hex

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import polars as pl

        rebuilt = _WORKER_MODELS.get(model_id)
        if rebuilt is None:
            data: Any = model.value
            rebuilt = _WORKER_MODELS.setdefault(model_id, NumberScorer.from_dict(data))
        for batch in batches:
            if batch.num_rows == 0:
                continue
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            scores = rebuilt.score_many(frame).to_arrow().cast(_ARROW_SCHEMA)
            yield from scores.to_batches()

    return features.mapInArrow(score_batches, SCORES_SCHEMA)
