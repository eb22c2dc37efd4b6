"""The live runner: keeps a :class:`~telewarden.services.live_loop.LiveLoop` fed and its
effects delivered, embedded (events from files or the simulator) or as one worker of a
partition on NATS JetStream.

Exactly-once effects on JetStream. A worker owns one partition of the events (by caller). For
each micro-batch it (1) decodes the events, setting malformed or oversized ones aside on the
dead-letter subject, (2) runs the loop step, (3) publishes every effect with its idempotency
key as ``Nats-Msg-Id`` and waits for the broker's acknowledgements, and only then (4) writes a
checkpoint: the last stream sequence processed with the detector's and the disposer's state,
to a temporary file renamed into place. A worker killed anywhere restarts from its last
checkpoint and re-reads the events after it; the loop is deterministic and batch-size
independent, so it re-derives the same effects under the same keys, and JetStream stores each
key once. Nothing is lost (positions advance only after the effects are stored) and nothing is
counted twice (keys are deduplicated).

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
import json
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from telewarden.adapters.brokers.nats_jetstream import (
    DUPLICATE_WINDOW_S,
    JetStream,
    decode_event,
    frame_of,
)
from telewarden.core.errors import ConfigurationError
from telewarden.services.live_loop import LOOP_EVENT_SCHEMA, LiveLoop, StepEffects, flag_key

__all__ = [
    "Checkpoint",
    "WorkerReport",
    "effect_messages",
    "hook_states",
    "restore_hooks",
    "run_nats_worker",
]


class Stateful(Protocol):
    """A loop part whose state a checkpoint carries."""

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


CHECKPOINT_COST_RATIO = 10.0
"""A checkpoint that took t seconds to write is not followed by another within 10 t: at most
about a tenth of a worker's time goes to checkpoints."""

_MAGIC = b"TWCK2\n"
"""A checkpoint file starts with this line, then a pickle of its fields."""


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
            if not data.startswith(_MAGIC):
                raise ValueError("not a telewarden worker checkpoint (or one of an older version)")
            fields = pickle.loads(data[len(_MAGIC) :])
            return cls(
                int(fields["last_seq"]),
                int(fields["events"]),
                fields["detector"],
                fields.get("hooks"),
            )
        except (ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as exc:
            raise ConfigurationError(
                f"checkpoint {path} is damaged ({exc}); move it away to restart the partition "
                "from the beginning of the stream"
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, flushed, renamed into place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("wb") as handle:
            handle.write(_MAGIC)
            pickle.dump(
                {
                    "last_seq": self.last_seq,
                    "events": self.events,
                    "detector": self.detector,
                    "hooks": self.hooks,
                },
                handle,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def hook_states(loop: LiveLoop) -> dict[str, Any]:
    """The states of the loop's disposal and warning hooks (those that offer one)."""
    out: dict[str, Any] = {}
    for name, hook in (("disposer", loop.disposer), ("warner", loop.warner)):
        if hook is not None and hasattr(hook, "state"):
            out[name] = hook.state()
    return out


def restore_hooks(loop: LiveLoop, states: dict[str, Any]) -> None:
    """Give the loop's hooks back the states of :func:`hook_states`.

    A state the loop has no hook for (or a hook without a state) is a configuration change
    since the checkpoint: an error, as the partition would otherwise resume half-forgotten.
    """
    for name, hook in (("disposer", loop.disposer), ("warner", loop.warner)):
        state = states.get(name)
        if (state is None) != (hook is None or not hasattr(hook, "restore")):
            raise ConfigurationError(
                f"the checkpoint's {name} state does not match the loop's {name} hook; move the "
                "checkpoint away to restart the partition from the beginning of the stream"
            )
        if state is not None:
            hook.restore(state)  # type: ignore[union-attr]


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def effect_messages(effects: StepEffects) -> list[tuple[str, str, bytes]]:
    """Every effect of a step as ``(kind, idempotency key, JSON payload)``."""
    out: list[tuple[str, str, bytes]] = []
    for position, verdict, reason, rule in effects.decisions.select(
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


@dataclass
class WorkerReport:
    """What one worker run did."""

    partition: int
    events: int = 0
    dead_lettered: int = 0
    effects: int = 0
    batches: int = 0
    resumed_from: int = 0
    last_seq: int = 0
    seconds: float = 0.0
    lag_s: list[float] = field(default_factory=list)
    """Sampled end-to-end lags: broker storage of an event to its effects being stored."""

    def lag_percentile(self, q: float) -> float | None:
        """The ``q`` quantile of the sampled lags, in seconds (None before any batch)."""
        if not self.lag_s:
            return None
        ordered = sorted(self.lag_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_nats_worker(
    url: str,
    partition: int,
    make_loop: Callable[[], LiveLoop],
    checkpoint_path: Path,
    *,
    batch: int = 5_000,
    fetch_timeout_s: float = 0.5,
    idle_exit_s: float | None = None,
    checkpoint_every_s: float = 10.0,
    on_batch: Callable[[WorkerReport], None] | None = None,
) -> WorkerReport:
    """Run one partition's worker until idle for ``idle_exit_s`` (None: forever).

    A checkpoint carries the whole loop state, so it is written at most every
    ``checkpoint_every_s`` seconds (and before an idle exit), not after every batch, and never
    more often than every ``CHECKPOINT_COST_RATIO`` times its own last writing time: a day's
    exposure index and detector windows take seconds to pickle, which must not eat the
    worker's time. After a crash the events since the last checkpoint are re-derived under the
    same keys, so the broker's duplicate window (``DUPLICATE_WINDOW_S``) must exceed the
    interval plus a restart; the interval is capped at a third of the window.
    """
    checkpoint = Checkpoint.load(checkpoint_path)
    loop = make_loop()
    if checkpoint.detector is not None:
        loop.detector.restore(checkpoint.detector)
        restore_hooks(loop, checkpoint.hooks or {})
    report = WorkerReport(partition, resumed_from=checkpoint.last_seq, last_seq=checkpoint.last_seq)
    broker = await JetStream.connect(url)
    reader = await broker.partition_reader(partition, checkpoint.last_seq)
    started = time.perf_counter()
    idle_since = time.perf_counter()
    saved_at = time.perf_counter()
    interval = checkpoint_every_s
    dirty = False
    position = checkpoint.last_seq

    def save() -> None:
        nonlocal saved_at, dirty, interval
        began = time.perf_counter()
        checkpoint.last_seq = position
        checkpoint.detector = loop.detector.state()
        checkpoint.hooks = hook_states(loop)
        checkpoint.save(checkpoint_path)
        saved_at, dirty = time.perf_counter(), False
        interval = min(
            max(checkpoint_every_s, CHECKPOINT_COST_RATIO * (saved_at - began)),
            DUPLICATE_WINDOW_S / 3,
        )

    try:
        while True:
            fetched = await reader.fetch(batch, fetch_timeout_s)
            fetched = [f for f in fetched if f.seq > position]
            if not fetched:
                if dirty:
                    save()
                if idle_exit_s is not None and time.perf_counter() - idle_since >= idle_exit_s:
                    break
                continue
            idle_since = time.perf_counter()
            rows = []
            for item in fetched:
                try:
                    rows.append(decode_event(item.data))
                except ValueError as exc:
                    await broker.dead_letter(item.seq, item.data, str(exc))
                    report.dead_lettered += 1
            effects = loop.step(frame_of(rows, LOOP_EVENT_SCHEMA)) if rows else None
            if effects is not None:
                report.effects += await broker.publish_effects(effect_messages(effects))
            # The position moves only now that every effect of the batch is stored.
            position = fetched[-1].seq
            checkpoint.events += len(rows)
            dirty = True
            if time.perf_counter() - saved_at >= interval:
                save()
            stored = time.time()
            step = max(1, len(fetched) // 20)
            report.lag_s += [stored - f.stored_at for f in fetched[::step]]
            report.events += len(rows)
            report.batches += 1
            report.last_seq = position
            if on_batch is not None:
                on_batch(report)
    finally:
        report.seconds = time.perf_counter() - started
        await reader.close()
        await broker.close()
    return report


def run_worker_blocking(*args: Any, **kwargs: Any) -> WorkerReport:
    """:func:`run_nats_worker` from synchronous code (the CLI)."""
    return asyncio.run(run_nats_worker(*args, **kwargs))
