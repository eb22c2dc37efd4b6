"""A worker's checkpoint carries the whole loop: a loop restored from it mid-stream goes on to
emit exactly the verdicts, flags, measures and warnings of an uninterrupted run (no broker
needed, so this runs wherever the tests do)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.brokers.nats_jetstream import partition_of
from telewarden.core.errors import ConfigurationError
from telewarden.runners.live import Checkpoint, effect_messages, hook_states, restore_hooks
from telewarden.services.live_loop import LiveLoop, micro_batches
from telewarden.services.loop_demo import make_whole_loop

PARTITIONS = 2


def _loop(records: Path, partition: int) -> LiveLoop:
    return make_whole_loop(
        records,
        hash_key=b"test-key" * 4,
        id_scope=f"p{partition}",
        owns=lambda msisdn: partition_of(msisdn, PARTITIONS) == partition,
    )


def _effects(records: Path, partition: int, *, restart_after: int | None, tmp: Path) -> dict:
    from telewarden.services.loop_replay import load_day

    events = load_day(records)
    mine = events.filter(
        pl.col("caller").map_elements(lambda c: partition_of(c, PARTITIONS), return_dtype=pl.Int64)
        == partition
    )
    loop = _loop(records, partition)
    out: dict[str, bytes] = {}
    for i, batch in enumerate(micro_batches(mine, 400)):
        if i == restart_after:
            Checkpoint(0, 0, loop.detector.state(), hook_states(loop)).save(tmp / "p.ckpt")
            restored = Checkpoint.load(tmp / "p.ckpt")
            loop = _loop(records, partition)  # a new process: the state comes from the file only
            assert restored.detector is not None and restored.hooks is not None
            loop.detector.restore(restored.detector)
            restore_hooks(loop, restored.hooks)
        for _kind, key, payload in effect_messages(loop.step(batch)):
            assert key not in out, f"{key} emitted twice"
            out[key] = payload
    return out


@pytest.mark.parametrize("partition", range(PARTITIONS), ids=lambda p: f"p{p}")
def test_a_restored_loop_emits_what_an_uninterrupted_one_does(
    records: Path, tmp_path: Path, partition: int
) -> None:
    whole = _effects(records, partition, restart_after=None, tmp=tmp_path)
    restarted = _effects(records, partition, restart_after=5, tmp=tmp_path)
    assert restarted == whole
    kinds = {key.partition(":")[0] for key in whole}
    assert {"verdict", "flag", "measure"} <= kinds


def test_measure_ids_are_counted_per_partition(records: Path, tmp_path: Path) -> None:
    keys = [k for k in _effects(records, 1, restart_after=None, tmp=tmp_path) if "measure" in k]
    assert keys and all(k.startswith("measure:M-p1-") for k in keys)


def test_a_checkpoint_of_another_format_is_refused_with_a_way_out(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"last_seq": 3, "events": 3, "detector": {}}')
    with pytest.raises(ConfigurationError, match="move it away"):
        Checkpoint.load(path)
