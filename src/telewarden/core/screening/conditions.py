"""The condition language of screening rules: small expression trees over named facts.

A condition is data, not code, so two evaluators can compile the same tree: the per-event
evaluator (:mod:`telewarden.core.screening.scalar`) turns it into Python source, the frame
evaluator (:mod:`telewarden.core.screening.batch`) into a Polars expression. The nodes are
deliberately few (Marble keeps one evaluator per operator); a fact is named
``namespace.attribute`` and declared in :mod:`telewarden.core.screening.facts`.

Write conditions with the fact namespaces and Python's operators::

    caller.cross_border & ~event.intl            # AllOf(...), Not(...)
    caller.deny_match.eq("exact") | callee.emergency
    caller.origin.isin(["hong_kong", "macao"])

Examples
--------
>>> from telewarden.core.screening.conditions import Namespace
>>> caller, event = Namespace("caller"), Namespace("event")
>>> cond = caller.valid & ~event.intl
>>> cond
AllOf(operands=(Fact(name='caller.valid'), Not(operand=Fact(name='event.intl'))))
>>> sorted(cond.facts())
['caller.valid', 'event.intl']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "Const",
    "Equals",
    "Fact",
    "IsIn",
    "IsNull",
    "Namespace",
    "Not",
    "TRUE",
    "Value",
]

Value = str | int | bool | None
"""What a fact holds: enum values are compared by their string value."""


def _plain(value: object) -> Value:
    if isinstance(value, Enum):
        value = value.value
    if value is not None and not isinstance(value, str | int | bool):
        raise TypeError(f"a condition compares facts with str, int, bool or None, not {value!r}")
    return value


class Condition:
    """Base of every node; combine nodes with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Condition) -> Condition:
        return AllOf((*_flatten(self, AllOf), *_flatten(other, AllOf)))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((*_flatten(self, AnyOf), *_flatten(other, AnyOf)))

    def __invert__(self) -> Condition:
        return Not(self)

    def children(self) -> tuple[Condition, ...]:
        """The direct sub-conditions."""
        return ()

    def facts(self) -> set[str]:
        """Every fact name this condition reads."""
        out: set[str] = set()
        for node in self.walk():
            if isinstance(node, Fact):
                out.add(node.name)
        return out

    def walk(self) -> Iterator[Condition]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


def _flatten(node: Condition, kind: type[AllOf] | type[AnyOf]) -> tuple[Condition, ...]:
    return node.operands if isinstance(node, kind) else (node,)


@dataclass(frozen=True, slots=True)
class Fact(Condition):
    """The value of one fact (a boolean fact can stand alone as a condition)."""

    name: str

    def eq(self, value: object) -> Equals:
        """True where the fact equals ``value``."""
        return Equals(self, _plain(value))

    def isin(self, values: Iterable[object]) -> IsIn:
        """True where the fact is one of ``values``."""
        return IsIn(self, tuple(_plain(v) for v in values))

    def is_null(self) -> IsNull:
        """True where the fact has no value (``None``)."""
        return IsNull(self)


@dataclass(frozen=True, slots=True)
class Const(Condition):
    """A constant truth value (``TRUE`` is the condition of a catch-all outcome)."""

    value: bool


TRUE = Const(True)


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """Negation."""

    operand: Condition

    def children(self) -> tuple[Condition, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class AllOf(Condition):
    """Conjunction, evaluated left to right with short-circuit on the per-event path."""

    operands: tuple[Condition, ...]

    def children(self) -> tuple[Condition, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """Disjunction, evaluated left to right with short-circuit on the per-event path."""

    operands: tuple[Condition, ...]

    def children(self) -> tuple[Condition, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class Equals(Condition):
    """A fact equals a constant."""

    fact: Fact
    value: Value

    def children(self) -> tuple[Condition, ...]:
        return (self.fact,)


@dataclass(frozen=True, slots=True)
class IsIn(Condition):
    """A fact is one of several constants."""

    fact: Fact
    values: tuple[Value, ...]

    def children(self) -> tuple[Condition, ...]:
        return (self.fact,)


@dataclass(frozen=True, slots=True)
class IsNull(Condition):
    """A fact has no value."""

    fact: Fact

    def children(self) -> tuple[Condition, ...]:
        return (self.fact,)


class Namespace:
    """Attribute access builds facts: ``Namespace("caller").valid`` is ``Fact("caller.valid")``."""

    __slots__ = ("_prefix",)

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Fact:
        if name.startswith("__"):
            raise AttributeError(name)
        return Fact(f"{self._prefix}.{name}")
