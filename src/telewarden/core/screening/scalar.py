"""The per-event evaluator: a rule set compiled to one Python function, and the trace it explains.

:class:`ScalarEvaluator` turns the conditions of a :class:`~telewarden.core.screening.rules.RuleSet`
into the source of one function (an ``if`` per outcome, in priority order, with the policy's
constants folded in and the lazy fact groups fetched at their first use), compiles it once per
policy snapshot and calls it per event. Compiling instead of walking the condition trees per
event keeps ``Screener.decide`` as fast as the hand-written rules it replaces (``bench/
screening.py``). The generated source is kept in :attr:`ScalarEvaluator.source` for reading.

The function returns which outcome fired and which "did not fire" text each earlier rule
chose; the trace, SIP Reason text and subscriber message are then built from the rule
definitions and memoised per (outcome, texts, detail, channel, origin).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from telewarden.core.numbers import NumberInfo, NumberIntel
from telewarden.core.screening.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Const,
    Equals,
    Fact,
    IsIn,
    IsNull,
    Not,
)
from telewarden.core.screening.facts import (
    ContentFacts,
    EventFacts,
    FactCatalogue,
    ListingFacts,
    PairFacts,
    PolicyValues,
)
from telewarden.core.screening.rules import Outcome, RuleSet
from telewarden.core.screening.types import (
    Channel,
    Decision,
    Ingress,
    RuleTrace,
    ScreeningEvent,
    new_decision,
)

__all__ = ["ScalarEvaluator"]

# Local variable of each fact group in the generated function; lazy groups start as None.
_GROUP_LOCAL = {
    "caller": "ci",
    "callee": "di",
    "caller_listing": "cl",
    "callee_listing": "dl",
    "pair": "pf",
    "content": "ct",
}
_LAZY_FETCH = {
    "caller_listing": "_listing(ci.e164)",
    "callee_listing": "_listing(di.e164)",
    "pair": "_pair(di, channel)",
    "content": "_content(ev.text)",
}
_EVENT_LOCAL = {
    "intl": "intl",
    "sms": "sms",
    "has_text": "has_text",
    "channel": "channel",
    "ingress": "ingress",
}
_PARTS_MEMO_SIZE = 100_000
_new_facts = tuple.__new__


class _Compiler:
    """Python source for conditions, through one catalogue."""

    def __init__(self, catalogue: FactCatalogue) -> None:
        self.catalogue = catalogue

    def fact(self, name: str) -> str:
        src = self.catalogue.source(name)
        if src.derived is not None:
            return self.condition(src.derived)
        if src.group == "policy":
            return repr(src.value)
        if src.group == "event":
            return _EVENT_LOCAL[src.attribute]
        local = _GROUP_LOCAL[src.group]
        if src.group in _LAZY_FETCH:
            # Fetch the group at its first use only; ``or`` works because the group objects
            # are always truthy.
            local = f"({local} or ({local} := {_LAZY_FETCH[src.group]}))"
        if src.lookup:
            return f"{local}.looked_up[{src.attribute!r}]"
        return f"{local}.{src.attribute}"

    def condition(self, node: Condition) -> str:
        return self._source(self.catalogue.fold(node))

    def _source(self, node: Condition) -> str:
        if isinstance(node, Fact):
            return self.fact(node.name)
        if isinstance(node, Const):
            return repr(node.value)
        if isinstance(node, Not):
            return f"(not {self._source(node.operand)})"
        if isinstance(node, AllOf):
            return "(" + " and ".join(self._source(c) for c in node.operands) + ")"
        if isinstance(node, AnyOf):
            return "(" + " or ".join(self._source(c) for c in node.operands) + ")"
        if isinstance(node, Equals):
            if node.value is None:
                return f"({self.fact(node.fact.name)} is None)"
            return f"({self.fact(node.fact.name)} == {node.value!r})"
        if isinstance(node, IsIn):
            # A set display after ``in`` compiles to a constant frozenset (one hash look-up).
            members = ", ".join(repr(v) for v in node.values)
            return f"({self.fact(node.fact.name)} in {{{members}}})"
        if isinstance(node, IsNull):
            return f"({self.fact(node.fact.name)} is None)"
        raise TypeError(f"cannot compile condition node {node!r}")


def _conjuncts(condition: Condition) -> list[Condition]:
    if isinstance(condition, AllOf):
        return list(condition.operands)
    if condition == Const(True):
        return []
    return [condition]


def _emit(
    compiler: _Compiler,
    items: list[tuple[int, list[Condition]]],
    depth: int,
    result: str,
    lines: list[str],
) -> None:
    """``if`` statements for a rule's outcomes, nesting a leading conjunct they share.

    The cross-border outcomes all start with ``caller.cross_border``: it is tested once, and
    a domestic caller skips the rule with one test, as the hand-written rules did.
    """
    pad = "    " * depth
    i = 0
    while i < len(items):
        k, conjuncts = items[i]
        if not conjuncts:
            lines.append(f"{pad}return {k}, {result}")
            return
        head = conjuncts[0]
        j = i + 1
        while j < len(items) and items[j][1][:1] == [head]:
            j += 1
        if j - i > 1:
            lines.append(f"{pad}if {compiler.condition(head)}:")
            _emit(compiler, [(kk, c[1:]) for kk, c in items[i:j]], depth + 1, result, lines)
        else:
            cond = conjuncts[0] if len(conjuncts) == 1 else AllOf(tuple(conjuncts))
            lines.append(f"{pad}if {compiler.condition(cond)}:")
            lines.append(f"{pad}    return {k}, {result}")
        i = j


class ScalarEvaluator:
    """Decide one event at a time with a compiled rule set; builds the trace.

    Parameters
    ----------
    rules : RuleSet
        The rules.
    catalogue : FactCatalogue
        Fact names for this snapshot (policy constants, lookups).
    numbers : NumberIntel
        The number analyser (its cache is read first, then ``analyse``).
    listing, pair, content : callable
        The lazy fact groups: e164 -> :class:`ListingFacts`; (callee NumberInfo, channel) ->
        :class:`PairFacts`; text -> :class:`ContentFacts`.
    memoise : bool
        Memoise trace/message parts (False for the naive baseline of the benchmark).
    """

    def __init__(
        self,
        rules: RuleSet,
        catalogue: FactCatalogue,
        *,
        numbers: NumberIntel,
        listing: Callable[[str | None], ListingFacts],
        pair: Callable[[NumberInfo, Channel], PairFacts],
        content: Callable[[str], ContentFacts],
        memoise: bool = True,
    ) -> None:
        rules.validate(catalogue)
        self.rules = rules
        self.values: PolicyValues = catalogue.values
        self.memoise = memoise
        self._cached = numbers.cached
        self._analyse = numbers.analyse
        self._outcomes: tuple[Outcome, ...] = tuple(o for _, o in rules.outcomes)
        self._outcome_rule: tuple[int, ...] = tuple(i for i, _ in rules.outcomes)
        # What the hot path needs of outcome k, in one tuple look-up.
        self._table = tuple(
            (o.verdict, o.reason, rules.rules[i].name, o.sip_status or 0, o.detail)
            for i, o in rules.outcomes
        )
        self._parts: dict[tuple[object, ...], tuple[tuple[RuleTrace, ...], str, str]] = {}
        # Positions, in the returned "texts" tuple, of each rule's why-not choice (rules with
        # more than one case) and notice flag.
        self._variant_slot: dict[int, int] = {}
        self._notice_slot: dict[int, int] = {}
        self._slot_size: list[int] = []
        for i, rule in enumerate(rules.rules):
            if len(rule.why_not) > 1:
                self._variant_slot[i] = len(self._slot_size)
                self._slot_size.append(len(rule.why_not) + 1)  # -1 (not reached) .. n - 1
        for i, rule in enumerate(rules.rules):
            if rule.notice is not None:
                self._notice_slot[i] = len(self._slot_size)
                self._slot_size.append(2)
        self._slot_base = [1]
        for size in self._slot_size[:-1]:
            self._slot_base.append(self._slot_base[-1] * size)
        self.source = self._generate(catalogue)
        namespace: dict[str, Any] = {"_listing": listing, "_pair": pair, "_content": content}
        exec(compile(self.source, "<screening rules>", "exec"), namespace)  # noqa: S102
        self._evaluate: Callable[..., tuple[Any, ...]] = namespace["evaluate"]
        self._static_why_not = tuple(
            tuple(
                RuleTrace(rule.name, rule.priority, False, w.text)
                if isinstance(w.text, str)
                else None
                for w in rule.why_not
            )
            for rule in rules.rules
        )
        self._dynamic = any(t is None for lines in self._static_why_not for t in lines)
        names = rules.names_and_priorities()
        self._not_reached = tuple(
            tuple(
                RuleTrace(name, prio, False, f"not reached: decided by {names[i][0]}")
                for name, prio in names[i + 1 :]
            )
            for i in range(len(names))
        )

    # -- code generation ---------------------------------------------------------------------

    def _generate(self, catalogue: FactCatalogue) -> str:
        compiler = _Compiler(catalogue)
        # The "texts" code: slot i holds (why-not case + 1) or the notice flag, in mixed radix.
        terms: list[str] = []
        lines = [
            "def evaluate(ev, ci, di, channel, intl, sms, has_text, ingress):",
            "    cl = dl = pf = ct = None",
        ]
        for i, rule in enumerate(self.rules.rules):
            if rule.notice is not None:
                local = f"z{i}"
                lines.append(f"    {local} = {compiler.condition(rule.notice.when)}")
                if catalogue.fold(rule.notice.when) != Const(False):
                    terms.append(f"{self._slot_base[self._notice_slot[i]]} * {local}")
        k = 0
        for i, rule in enumerate(self.rules.rules):
            lines.append(f"    # {rule.priority} {rule.name}")
            code = " + ".join(terms) if terms else "0"
            items: list[tuple[int, list[Condition]]] = []
            for outcome in rule.outcomes:
                folded = catalogue.fold(outcome.when)
                if folded != Const(False):  # an outcome the policy rules out costs nothing
                    items.append((k, _conjuncts(folded)))
                k += 1
            _emit(compiler, items, 1, f"{code}, cl, dl, pf, ct", lines)
            if i in self._variant_slot:
                local = f"v{i}"
                cases = rule.why_not
                expr = str(len(cases) - 1)
                for j in range(len(cases) - 2, -1, -1):
                    expr = f"{j} if {compiler.condition(cases[j].when)} else ({expr})"
                lines.append(f"    {local} = {expr}")
                terms.append(f"{self._slot_base[self._variant_slot[i]]} * ({local} + 1)")
        lines.append("    raise AssertionError('no rule fired: the last rule must always fire')")
        return "\n".join(lines) + "\n"

    def _slot(self, code: int, slot: int) -> int:
        """The value of ``slot`` in a "texts" code."""
        return (code // self._slot_base[slot]) % self._slot_size[slot]

    # -- deciding -------------------------------------------------------------------------------

    def decide(self, event: ScreeningEvent) -> Decision:
        """The :class:`Decision` for ``event``; never raises on bad numbers."""
        cached = self._cached
        analyse = self._analyse
        raw = event.caller
        if not isinstance(raw, str):
            raw = str(raw)
        caller = cached(raw) or analyse(raw)
        raw = event.callee
        if not isinstance(raw, str):
            raw = str(raw)
        callee = cached(raw) or analyse(raw)
        channel = event.channel
        if not isinstance(channel, Channel):
            channel = Channel.from_str(str(channel))
        ingress = event.ingress
        if not isinstance(ingress, Ingress):
            ingress = Ingress.from_str(str(ingress))
        k, texts, cl, dl, pf, ct = self._evaluate(
            event,
            caller,
            callee,
            channel,
            ingress is Ingress.INTERNATIONAL,
            channel is Channel.SMS,
            bool(event.text),
            ingress,
        )
        verdict, reason, rule, sip_status, detail = self._table[k]
        if not isinstance(detail, str):
            detail = detail(
                _new_facts(
                    EventFacts, (caller, callee, channel, event, cl, dl, pf, ct, self.values)
                )
            )
        origin = caller.origin_label
        key = (k, texts, detail, channel, origin)
        parts = self._parts.get(key) if self.memoise else None
        if parts is None:
            facts = _new_facts(
                EventFacts, (caller, callee, channel, event, cl, dl, pf, ct, self.values)
            )
            parts, dynamic = self._build_parts(k, texts, detail, channel, origin, facts)
            if self.memoise and not dynamic:
                if len(self._parts) >= _PARTS_MEMO_SIZE:
                    self._parts.clear()
                self._parts[key] = parts
        trace, sip_reason, message = parts
        return new_decision(
            verdict,
            reason,
            rule,
            sip_status,
            sip_reason,
            origin,
            caller,
            callee,
            trace,
            message,
            caller.origin_label_zh,
        )

    def _build_parts(
        self,
        k: int,
        texts: int,
        detail: str,
        channel: Channel,
        origin: str,
        facts: EventFacts,
    ) -> tuple[tuple[tuple[RuleTrace, ...], str, str], bool]:
        """Trace, SIP Reason text and message of outcome ``k``; and whether a text was one-off."""
        rules = self.rules.rules
        index = self._outcome_rule[k]
        outcome = self._outcomes[k]
        dynamic = False
        before: list[RuleTrace] = []
        for j in range(index):
            slot = self._variant_slot.get(j)
            case = 0 if slot is None else self._slot(texts, slot) - 1
            line = self._static_why_not[j][case]
            if line is None:
                text = rules[j].why_not[case].text
                assert not isinstance(text, str)
                line = RuleTrace(rules[j].name, rules[j].priority, False, text(facts))
                dynamic = True
            before.append(line)
        notices = [
            (j, rules[j].notice) for j, slot in self._notice_slot.items() if self._slot(texts, slot)
        ]
        suffix: Sequence[RuleTrace] = self._not_reached[index]
        if notices:
            noted = {j - index - 1: n.text for j, n in notices if n is not None and j > index}
            suffix = tuple(
                RuleTrace(t.rule, t.priority, False, f"{t.detail}; {noted[i]}") if i in noted else t
                for i, t in enumerate(suffix)
            )
        rule = rules[index]
        trace = (*before, RuleTrace(rule.name, rule.priority, True, detail), *suffix)
        values = self.values
        sip_reason = outcome.sip_template.format(
            reason=outcome.reason.value,
            origin=origin,
            appeal_contact=values.appeal_contact,
            optin_instruction=values.optin_instruction,
        )
        what = "SMS" if channel is Channel.SMS else "call"
        message = outcome.message_template.format(
            reason=outcome.reason.value,
            origin=origin,
            appeal_contact=values.appeal_contact,
            optin_instruction=values.optin_instruction,
            detail=detail,
            what=what,
            a_what=f"an {what}" if channel is Channel.SMS else f"a {what}",
            appeal=f"If you think this is wrong, contact {values.appeal_contact}.",
            optin=f"To receive them, {values.optin_instruction}.",
        )
        for _, notice in notices:
            if notice is not None:
                message = f"{message} ({notice.text})"
        return (trace, sip_reason, message), dynamic
