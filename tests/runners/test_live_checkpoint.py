"""A worker's checkpoint carries the whole loop: a loop restored from it mid-stream goes on to
emit exactly the verdicts, flags, measures and warnings of an uninterrupted run (no broker
needed, so this runs wherever the tests do)."""

from __future__ import annotations

import datetime as dt
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


def _with_tables() -> Checkpoint:
    shared = pl.DataFrame(
        {"n": ["+8613800000001", None], "day": [dt.date(2026, 3, 1), None], "k": [1, 2]},
        schema={"n": pl.String, "day": pl.Date, "k": pl.UInt32},
    )
    zoned = pl.DataFrame(
        {"at": [dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)], "hour": [8]},
        schema={"at": pl.Datetime("us", "UTC"), "hour": pl.Int8},
    )
    hooks = {"scorer": {"pieces": [shared, zoned, shared], "empty": pl.DataFrame()}}
    return Checkpoint(7, 11, {"windows": {"+8613800000001": [1.5, 2.5]}}, hooks)


def test_a_checkpoints_tables_are_written_aside_and_read_back_whole(tmp_path: Path) -> None:
    from polars.testing import assert_frame_equal

    checkpoint = _with_tables()
    snapshot = checkpoint.snapshot()
    assert len(snapshot.tables) == 3  # the shared table once; the object graph names them
    checkpoint.save(tmp_path / "p.ckpt")
    back = Checkpoint.load(tmp_path / "p.ckpt")
    assert (back.last_seq, back.events, back.detector) == (7, 11, checkpoint.detector)
    assert back.hooks is not None and checkpoint.hooks is not None
    pieces, want = back.hooks["scorer"]["pieces"], checkpoint.hooks["scorer"]["pieces"]
    for got, expected in zip(pieces, want, strict=True):
        assert_frame_equal(got, expected)
    assert pieces[0] is pieces[2]  # one table held twice is one table again
    assert back.hooks["scorer"]["empty"].shape == (0, 0)


def test_a_checkpoint_cut_short_is_refused_with_a_way_out(tmp_path: Path) -> None:
    data = b"".join(_with_tables().snapshot().chunks())
    for cut in (len(data) - 1, len(data) // 2, 20):
        path = tmp_path / f"cut{cut}.ckpt"
        path.write_bytes(data[:cut])
        with pytest.raises(ConfigurationError, match="move it away"):
            Checkpoint.load(path)


def test_a_checkpoint_of_the_previous_layout_is_still_read(tmp_path: Path) -> None:
    import pickle

    fields = {"last_seq": 5, "events": 9, "detector": {"w": 1}, "hooks": {"warner": {"v": 1}}}
    path = tmp_path / "v2.ckpt"
    path.write_bytes(b"TWCK2\n" + pickle.dumps(fields))
    back = Checkpoint.load(path)
    assert (back.last_seq, back.events, back.detector, back.hooks) == (
        5,
        9,
        {"w": 1},
        {"warner": {"v": 1}},
    )
