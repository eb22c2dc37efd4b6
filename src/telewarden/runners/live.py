"""The live runner: keeps a :class:`~telewarden.services.live_loop.LiveLoop` fed and its
effects delivered, embedded (events from files or the simulator) or as one worker of a
partition on NATS JetStream.

Exactly-once effects on JetStream. A worker owns one partition of the events (by caller). For
each micro-batch (whole feed messages, each a JSON Lines batch of events) it (1) appends the
micro-batch's stream-sequence range ``first last`` to its **intent log**, flushed and fsynced,
(2) decodes the events, setting malformed or oversized ones aside on the dead-letter subject one
by one (``dlq:<seq>:<line>``), (3) runs the loop step, (4) publishes one message per effect kind
(JSON Lines, each line with its effect's own idempotency key; ``Nats-Msg-Id`` =
``<kind>:p<k>:<first>-<last>:<part>``) and waits once for all the broker's acknowledgements,
and only then (5) moves its position; every ``checkpoint_every_s`` it takes a checkpoint (the
last sequence processed with the detector's and the hooks' state, pickled on the worker's path,
then written by a thread to a temporary file, fsynced and renamed into place while the loop goes
on) and, once the file is in place, rewrites the intent log without the ranges it covers.

A worker killed anywhere restarts from its last checkpoint and first replays the ranges of its
intent log as exactly the same micro-batches (the reader stops a batch at the logged sequence
and keeps what it fetched beyond for the next). The loop is deterministic and batch-size
independent, so each replayed micro-batch re-derives the same effects, the same message bodies
and the same message ids, and JetStream stores each id once. Without the log a restarted worker
could cut its micro-batches elsewhere (fetches return what has arrived), publish the same
effects under other ids, and the broker would keep both. A range is logged before anything of
its micro-batch is published, so a micro-batch whose range did not reach the log published
nothing, and may be cut anew. Nothing is lost (positions advance only after the effects are
stored) and nothing is counted twice (message ids are deduplicated and carry the same lines).

The worker runs the whole loop, as ``telewarden run`` does embedded: screen, detect, dispose and
warn. For the re-derived effects to carry the same keys, everything the loop decides from is in
the checkpoint: the detectors' windows, the disposal state (cases, measures in force, the
counters behind the case and measure ids) and the early-warning state (exposure index, flagged
subjects, rate limits). Keys:

- ``verdict:<position>`` and ``flag:<source>:<subject>``;
- ``measure:<id>``: ids are counted per partition (``M-p<k>-000001``), so a measure is the same
  message however often it is re-derived; only the partition that owns a card (by caller)
  disposes of it, so two workers never decide measures on one card;
- ``warning:<victim>:<flagged number>``: the worker that raised the flag warns, one warning per
  victim and flagged number. Two workers that both flagged one number (it called into one
  partition and was called from another) produce the same key, and the broker keeps the first.

What one partition cannot see: a flag or measure raised in another partition. A card's own
calls are all in its partition, so a measured card's next call is blocked there; but a
subscriber of another partition calling a flagged off-net number back (the Wangiri loss) is
screened by a worker that did not flag the number, and a contact of a flagged number made from
another partition does not raise a warning. Broadcasting flags to every partition closes both
gaps (not done yet).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from telewarden.adapters.brokers import connect_broker
from telewarden.adapters.brokers.nats_jetstream import (
    DUPLICATE_WINDOW_S,
    FORMAT_HEADER,
    NDJSON,
    Outgoing,
    dead_letter_message,
    decode_message,
    split_mirrors,
)
from telewarden.core.errors import ConfigurationError
from telewarden.services.live_loop import LOOP_EVENT_SCHEMA, LiveLoop, StepEffects, flag_key

__all__ = [
    "Checkpoint",
    "CheckpointSnapshot",
    "IntentLog",
    "WorkerReport",
    "effect_batches",
    "effect_messages",
    "hook_states",
    "restore_hooks",
    "run_nats_worker",
    "write_atomic",
]


class Stateful(Protocol):
    """A loop part whose state a checkpoint carries."""

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


CHECKPOINT_COST_RATIO = 10.0
"""A checkpoint that took t seconds to write is not followed by another within 10 t: at most
about a tenth of a worker's time goes to checkpoints."""

_MAGIC = b"TWCK3\n"
"""A checkpoint file starts with this line; then the length of a pickle of its fields (8 bytes,
little-endian), the pickle, and the tables the pickle names, each as its length and Arrow IPC
bytes."""

_MAGIC_PICKLE_ONLY = b"TWCK2\n"
"""The previous layout, still read: this line, then one pickle of the fields and tables."""

_LENGTH = 8


class _TablesAside(pickle.Pickler):
    """Pickles the object graph but only names its Polars tables (:class:`CheckpointSnapshot`)."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.tables: list[pl.DataFrame] = []
        self._named: dict[int, int] = {}  # a table held twice is written once, read back once

    def persistent_id(self, obj: Any) -> int | None:
        if type(obj) is not pl.DataFrame:
            return None
        name = self._named.get(id(obj))
        if name is None:
            name = self._named[id(obj)] = len(self.tables)
            self.tables.append(obj)
        return name


class _TablesBack(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, tables: list[pl.DataFrame]) -> None:
        super().__init__(file)
        self.tables = tables

    def persistent_load(self, pid: Any) -> pl.DataFrame:
        if not isinstance(pid, int) or not 0 <= pid < len(self.tables):
            raise pickle.UnpicklingError(f"the checkpoint names a table it lacks ({pid!r})")
        return self.tables[pid]


@dataclass(frozen=True)
class CheckpointSnapshot:
    """A checkpoint as taken on the worker's path: its object graph pickled, its tables held.

    Polars tables are immutable (the loop replaces its tables, never changes one in place), so
    holding them is a snapshot; writing them out, most of a checkpoint's bytes, is left to
    :meth:`chunks`, which a thread runs while the loop goes on.
    """

    head: bytes
    tables: list[pl.DataFrame]

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, piece by piece."""
        yield _MAGIC
        yield len(self.head).to_bytes(_LENGTH, "little")
        yield self.head
        for table in self.tables:
            buffer = io.BytesIO()
            table.write_ipc(buffer)
            data = buffer.getbuffer()
            yield len(data).to_bytes(_LENGTH, "little")
            yield bytes(data)


def _read_snapshot(data: bytes) -> Any:
    """The fields of a :class:`CheckpointSnapshot`'s bytes (after the magic line)."""
    view = memoryview(data)

    def take(at: int) -> tuple[memoryview, int]:
        if at + _LENGTH > len(view):
            raise ValueError("the file is cut short")
        size = int.from_bytes(view[at : at + _LENGTH], "little")
        end = at + _LENGTH + size
        if end > len(view):
            raise ValueError("the file is cut short")
        return view[at + _LENGTH : end], end

    head, at = take(0)
    tables = []
    while at < len(view):
        table, at = take(at)
        tables.append(pl.read_ipc(io.BytesIO(table)))
    return _TablesBack(io.BytesIO(head), tables).load()


@dataclass
class Checkpoint:
    """Where a worker's partition stands: the last sequence whose effects are stored.

    With it, the whole loop state at that sequence: the detector's windows and the states of
    the disposal and early-warning hooks. The file is a pickle (the hooks' states are object
    graphs: a case store, a measure book, an exposure index) written by the worker itself;
    keep checkpoints where only the worker's account can write, as a pickle runs code when read.
    """

    last_seq: int = 0
    events: int = 0
    detector: dict[str, Any] | None = None
    hooks: dict[str, Any] | None = None
    """``{"disposer": ..., "warner": ...}``: each hook's ``state()``."""

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """The checkpoint at ``path``, or an empty one; a damaged file is a clear error."""
        if not path.exists():
            return cls()
        try:
            data = path.read_bytes()
            if data.startswith(_MAGIC):
                fields = _read_snapshot(data[len(_MAGIC) :])
            elif data.startswith(_MAGIC_PICKLE_ONLY):
                fields = pickle.loads(data[len(_MAGIC_PICKLE_ONLY) :])
            else:
                raise ValueError("not a telewarden worker checkpoint (or one of an older version)")
            return cls(
                int(fields["last_seq"]),
                int(fields["events"]),
                fields["detector"],
                fields.get("hooks"),
            )
        except (
            ValueError,
            KeyError,
            TypeError,
            EOFError,
            pickle.UnpicklingError,
            pl.exceptions.PolarsError,
        ) as exc:
            raise ConfigurationError(
                f"checkpoint {path} is damaged ({exc}); move it away to restart the partition "
                "from the beginning of the stream"
            ) from exc

    def snapshot(self) -> CheckpointSnapshot:
        """The checkpoint as of now (the loop may go on once this returns); its tables are
        written out later, by :meth:`CheckpointSnapshot.chunks`."""
        fields = {
            "last_seq": self.last_seq,
            "events": self.events,
            "detector": self.detector,
            "hooks": self.hooks,
        }
        buffer = io.BytesIO()
        pickler = _TablesAside(buffer)
        pickler.dump(fields)
        return CheckpointSnapshot(buffer.getvalue(), pickler.tables)

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, flushed, renamed into place."""
        write_atomic(path, self.snapshot().chunks())


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """``data`` into ``path`` through a temporary file in the same folder, fsynced, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        for chunk in [data] if isinstance(data, bytes) else data:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def detector_state(detector: Any) -> dict[str, Any]:
    """The detector's checkpoint: the batch detector's snapshot (its columnar tier as tables,
    milliseconds) where it offers one, else the reference's ``state()``."""
    snapshot = getattr(detector, "snapshot", None)
    return snapshot() if snapshot is not None else dict(detector.state())


def _hooks(loop: LiveLoop) -> tuple[tuple[str, Any], ...]:
    return (("disposer", loop.disposer), ("warner", loop.warner), ("scorer", loop.scorer))


def hook_states(loop: LiveLoop) -> dict[str, Any]:
    """The states of the loop's disposal, warning and scoring hooks (those that offer one)."""
    out: dict[str, Any] = {}
    for name, hook in _hooks(loop):
        if hook is not None and hasattr(hook, "state"):
            out[name] = hook.state()
    return out


def restore_hooks(loop: LiveLoop, states: dict[str, Any]) -> None:
    """Give the loop's hooks back the states of :func:`hook_states`.

    A state the loop has no hook for (or a hook without a state) is a configuration change
    since the checkpoint: an error, as the partition would otherwise resume half-forgotten.
    """
    for name, hook in _hooks(loop):
        state = states.get(name)
        if (state is None) != (hook is None or not hasattr(hook, "restore")):
            raise ConfigurationError(
                f"the checkpoint's {name} state does not match the loop's {name} hook; move the "
                "checkpoint away to restart the partition from the beginning of the stream"
            )
        if state is not None:
            hook.restore(state)


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def effect_messages(effects: StepEffects) -> list[tuple[str, str, bytes]]:
    """Every effect of a step as ``(kind, idempotency key, JSON payload)``, one by one."""
    return _effect_payloads(effects, verdicts=True)


def _effect_payloads(effects: StepEffects, *, verdicts: bool) -> list[tuple[str, str, bytes]]:
    out: list[tuple[str, str, bytes]] = []
    decisions = effects.decisions if verdicts else effects.decisions.clear()
    for position, verdict, reason, rule in decisions.select(
        "position", "verdict", "reason", "rule"
    ).iter_rows():
        out.append(
            (
                "verdict",
                f"verdict:{position}",
                _dump({"position": position, "verdict": verdict, "reason": reason, "rule": rule}),
            )
        )
    for flag in effects.flags:
        key = flag_key(flag)
        out.append(
            (
                "flag",
                f"flag:{key}",
                _dump(
                    {
                        "key": key,
                        "subject": flag.subject,
                        "source": flag.source,
                        "at": flag.at.isoformat(),
                        "reason": flag.reason,
                    }
                ),
            )
        )
    for measure in effects.measures:
        data = _as_dict(measure)
        out.append(("measure", f"measure:{data['id']}", _dump(data)))
    for warning in effects.warnings:
        data = _as_dict(warning)
        # One warning per victim and flagged number: the same key from any worker.
        key = f"warning:{data['msisdn']}:{data['subject']}"
        out.append(("warning", key, _dump(data)))
    return out


def _as_dict(item: Any) -> dict[str, Any]:
    if hasattr(item, "as_dict"):
        return dict(item.as_dict())
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    return dict(vars(item))


BATCHED_KINDS = ("verdict", "flag", "measure")
"""Effect kinds published as one message per micro-batch. Warnings go one message each under
their own key: two partitions may raise the same warning, and only its own ``Nats-Msg-Id`` lets
the broker keep one."""


def _line(key: str, payload: bytes) -> bytes:
    return (
        b'{"key":' + json.dumps(key, ensure_ascii=False).encode() + b',"effect":' + payload + b"}"
    )


def effect_lines(effects: StepEffects) -> dict[str, list[bytes]]:
    """Every effect of a step as JSON Lines ``{"key": ..., "effect": ...}``, by kind.

    The verdicts (one per event, the bulk) are written by Polars in one pass; the effect of a
    line is the payload of :func:`effect_messages` for the same key.
    """
    out: dict[str, list[bytes]] = {}
    decisions = effects.decisions
    if decisions.height:
        body = decisions.select(
            key=pl.concat_str(pl.lit("verdict:"), pl.col("position").cast(pl.String)),
            effect=pl.struct("position", "verdict", "reason", "rule"),
        ).write_ndjson()
        out["verdict"] = body.encode().split(b"\n")[: decisions.height]
    for kind, key, payload in _effect_payloads(effects, verdicts=False):
        out.setdefault(kind, []).append(_line(key, payload))
    return out


def effect_batches(
    effects: StepEffects, partition: int, first_seq: int, last_seq: int, max_bytes: int
) -> list[Outgoing]:
    """The messages of one micro-batch's effects (sequences ``first_seq`` to ``last_seq``).

    One message per kind in ``BATCHED_KINDS``, split into parts only to keep each body under
    ``max_bytes``; ``Nats-Msg-Id`` = ``<kind>:p<partition>:<first_seq>-<last_seq>:<part>``, the
    same whenever the same micro-batch is processed again. Warnings: one message each.
    """
    out: list[Outgoing] = []
    headers = {FORMAT_HEADER: NDJSON}
    for kind, lines in effect_lines(effects).items():
        if kind not in BATCHED_KINDS:
            for line in lines:
                key = json.loads(line)["key"]
                out.append(Outgoing(f"tw.effects.{kind}", key, line + b"\n", headers))
            continue
        part, start, size = 0, 0, 0
        for i, line in enumerate([*lines, b""]):
            last = i == len(lines)
            if last or (i > start and size + len(line) + 1 > max_bytes):
                out.append(
                    Outgoing(
                        f"tw.effects.{kind}",
                        f"{kind}:p{partition}:{first_seq}-{last_seq}:{part}",
                        b"\n".join(lines[start:i]) + b"\n",
                        {**headers, "Tw-Count": str(i - start)},
                    )
                )
                part, start, size = part + 1, i, 0
            size += len(line) + 1
    return out


class IntentLog:
    """The sequence ranges of a worker's micro-batches since its checkpoint, one per line.

    A range is appended (flushed and fsynced) before any effect of its micro-batch is
    published, and the log is rewritten atomically when a checkpoint is saved, keeping only the
    ranges after it. A torn last line (a crash while appending) is dropped: its micro-batch
    published nothing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def load(self, after_seq: int) -> list[tuple[int, int]]:
        """The logged ranges that end after ``after_seq``, in order; a gap is a clear error."""
        if not self.path.exists():
            return []
        ranges: list[tuple[int, int]] = []
        for line in self.path.read_bytes().split(b"\n"):
            parts = line.split()
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                continue
            first, last = int(parts[0]), int(parts[1])
            if last > after_seq:
                ranges.append((first, last))
        for (_, before), (after, _) in zip(ranges, ranges[1:], strict=False):
            if after <= before:
                raise ConfigurationError(
                    f"intent log {self.path} is out of order; move it and the checkpoint away "
                    "to restart the partition from the beginning of the stream"
                )
        return ranges

    def append(self, first_seq: int, last_seq: int) -> None:
        """Log one micro-batch's range durably."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
        self._handle.write(f"{first_seq} {last_seq}\n".encode())
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def rewrite(self, ranges: list[tuple[int, int]]) -> None:
        """Replace the log by ``ranges`` (those a new checkpoint does not cover), atomically."""
        self.close()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with tmp.open("wb") as handle:
            handle.write(b"".join(f"{a} {b}\n".encode() for a, b in ranges))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def close(self) -> None:
        """Close the append handle."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass
class WorkerReport:
    """What one worker run did."""

    partition: int
    events: int = 0
    dead_lettered: int = 0
    effects: int = 0
    messages: int = 0
    """Messages published: effects and dead letters."""
    batches: int = 0
    replayed_batches: int = 0
    """Micro-batches replayed from the intent log after a restart."""
    resumed_from: int = 0
    last_seq: int = 0
    seconds: float = 0.0
    active_s: float = 0.0
    """From the first micro-batch taken to the last one's effects stored."""
    loop_s: float = 0.0
    """Of which in the loop's steps (the rest: decoding, encoding, the broker)."""
    cpu_s: float = 0.0
    lag_s: list[float] = field(default_factory=list)
    """Sampled end-to-end lags: broker storage of an event to its effects being stored."""

    def lag_percentile(self, q: float) -> float | None:
        """The ``q`` quantile of the sampled lags, in seconds (None before any batch)."""
        if not self.lag_s:
            return None
        ordered = sorted(self.lag_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def intent_log_path(checkpoint_path: Path) -> Path:
    """Where the intent log of the checkpoint at ``checkpoint_path`` lives (beside it)."""
    return checkpoint_path.with_name(f"{checkpoint_path.name}.intents")


async def run_nats_worker(
    url: str,
    partition: int,
    make_loop: Callable[[], LiveLoop],
    checkpoint_path: Path,
    *,
    batch: int = 20_000,
    fetch_timeout_s: float = 0.1,
    linger_s: float = 0.0,
    idle_exit_s: float | None = None,
    checkpoint_every_s: float = 10.0,
    on_batch: Callable[[WorkerReport], None] | None = None,
) -> WorkerReport:
    """Run one partition's worker until idle for ``idle_exit_s`` (None: forever).

    A micro-batch is what has arrived, whole messages up to ``batch`` events; a fetch waits at
    most ``fetch_timeout_s`` for the first message, and the batch takes what else arrives within
    ``linger_s`` of it, so a lone event waits no longer than ``linger_s`` plus one step. A checkpoint carries the whole loop state, so it is written at most every
    ``checkpoint_every_s`` seconds (and before an idle exit), not after every batch, and never
    more often than every ``CHECKPOINT_COST_RATIO`` times its own last writing time: a day's
    exposure index and detector windows take seconds to pickle, which must not eat the
    worker's time. After a crash the micro-batches since the last checkpoint are replayed from
    the intent log under the same message ids, so the broker's duplicate window
    (``DUPLICATE_WINDOW_S``) must exceed the interval plus a restart; the interval is capped at
    a third of the window.
    """
    checkpoint = Checkpoint.load(checkpoint_path)
    intents = IntentLog(intent_log_path(checkpoint_path))
    replay = intents.load(checkpoint.last_seq)
    loop = make_loop()
    if checkpoint.detector is not None:
        loop.detector.restore(checkpoint.detector)
        restore_hooks(loop, checkpoint.hooks or {})
    report = WorkerReport(partition, resumed_from=checkpoint.last_seq, last_seq=checkpoint.last_seq)
    broker = await connect_broker(url)
    reader = await broker.partition_reader(partition, checkpoint.last_seq)
    started, cpu_started = time.perf_counter(), time.process_time()
    first_batch_at: float | None = None
    idle_s = 0.0
    saved_at = time.perf_counter()
    interval = checkpoint_every_s
    dirty = False
    position = checkpoint.last_seq

    logged = list(replay)
    """The ranges in the intent log after the last checkpoint known to be on disk."""
    writing: asyncio.Future[None] | None = None
    writing_seq = 0

    def save() -> None:
        # The state is taken and its object graph pickled here, on the worker's path (the
        # loop must not move meanwhile); its tables (immutable) are written out, fsynced and
        # renamed into place by a thread while the loop goes on.
        nonlocal saved_at, dirty, interval, writing, writing_seq
        began = time.perf_counter()
        checkpoint.last_seq = position
        checkpoint.detector = detector_state(loop.detector)
        checkpoint.hooks = hook_states(loop)
        snapshot = checkpoint.snapshot()
        writing, writing_seq = (
            asyncio.ensure_future(
                asyncio.to_thread(write_atomic, checkpoint_path, snapshot.chunks())
            ),
            position,
        )
        saved_at, dirty = time.perf_counter(), False
        interval = min(
            max(checkpoint_every_s, CHECKPOINT_COST_RATIO * (saved_at - began)),
            DUPLICATE_WINDOW_S / 3,
        )

    async def saved(*, wait: bool) -> bool:
        """Whether no checkpoint is being written (after taking over one that was written)."""
        nonlocal writing, logged
        if writing is None:
            return True
        if not wait and not writing.done():
            return False
        await writing  # a failed write raises: the worker stops, the log stays whole
        writing = None
        # Only now may the ranges the checkpoint covers leave the log (a crash before this
        # leaves them there; they end at or before the checkpoint and are skipped on load).
        logged = [r for r in logged if r[0] > writing_seq]
        intents.rewrite(logged)
        return True

    try:
        while True:
            if replay:
                fetched = await reader.next_batch(batch, fetch_timeout_s, until_seq=replay[0][1])
                if not fetched or fetched[0].seq != replay[0][0]:
                    raise ConfigurationError(
                        f"the intent log's range {replay[0]} does not follow the checkpoint at "
                        f"sequence {position}; move the checkpoint and its intent log away to "
                        "restart the partition from the beginning of the stream"
                    )
                replay.pop(0)
                report.replayed_batches += 1
            else:
                asked = time.perf_counter()
                fetched = await reader.next_batch(batch, fetch_timeout_s, linger_s=linger_s)
                if not fetched:
                    # Idle time is time spent waiting for events, not writing a checkpoint (a
                    # long checkpoint followed by one empty fetch is not an idle stream).
                    idle_s += time.perf_counter() - asked
                    if dirty and await saved(wait=False):
                        save()
                    if idle_exit_s is not None and idle_s >= idle_exit_s:
                        await saved(wait=True)
                        if dirty:
                            save()
                            await saved(wait=True)
                        break
                    continue
                intents.append(fetched[0].seq, fetched[-1].seq)
                logged.append((fetched[0].seq, fetched[-1].seq))
            if first_batch_at is None:
                first_batch_at = time.perf_counter()
            idle_s = 0.0
            frames, dead = [], []
            for item in fetched:
                frame, bad = decode_message(item)
                frames.append(frame)
                dead += bad
            events = pl.concat(frames) if len(frames) > 1 else frames[0]
            events, mirrors = split_mirrors(events.select(list(LOOP_EVENT_SCHEMA)))
            outgoing = [dead_letter_message(d) for d in dead]
            if events.height or mirrors.height:
                began = time.perf_counter()
                effects = loop.step(events, mirrors=mirrors)
                report.loop_s += time.perf_counter() - began
                batches = effect_batches(
                    effects, partition, fetched[0].seq, fetched[-1].seq, broker.max_body_bytes
                )
                report.effects += sum(int((m.headers or {}).get("Tw-Count", 1)) for m in batches)
                outgoing += batches
            await broker.publish_all(outgoing)
            # The position moves only now that every message of the batch is stored.
            position = fetched[-1].seq
            report.messages += len(outgoing)
            report.dead_lettered += len(dead)
            checkpoint.events += events.height
            dirty = True
            if await saved(wait=False) and time.perf_counter() - saved_at >= interval:
                save()
            stored = time.time()
            step = max(1, len(fetched) // 20)
            report.lag_s += [stored - f.stored_at for f in fetched[::step]]
            report.events += events.height
            report.batches += 1
            report.last_seq = position
            report.active_s = time.perf_counter() - first_batch_at
            if on_batch is not None:
                on_batch(report)
    finally:
        report.seconds = time.perf_counter() - started
        report.cpu_s = time.process_time() - cpu_started
        intents.close()
        await reader.close()
        await broker.close()
    return report


def run_worker_blocking(*args: Any, **kwargs: Any) -> WorkerReport:
    """:func:`run_nats_worker` from synchronous code (the CLI)."""
    return asyncio.run(run_nats_worker(*args, **kwargs))
