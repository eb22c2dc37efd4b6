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

from telewarden.core.numbers import NumberInfo
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
        if src.index is not None:
            return f"{local}.looked_up[{src.index}]"
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


class ScalarEvaluator:
    """Decide one event at a time with a compiled rule set; builds the trace.

    Parameters
    ----------
    rules : RuleSet
        The rules.
    catalogue : FactCatalogue
        Fact names for this snapshot (policy constants, lookups).
    analyse : callable
        ``NumberIntel.analyse`` (or any str -> NumberInfo).
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
        analyse: Callable[[str], NumberInfo],
        listing: Callable[[str | None], ListingFacts],
        pair: Callable[[NumberInfo, Channel], PairFacts],
        content: Callable[[str], ContentFacts],
        memoise: bool = True,
    ) -> None:
        rules.validate(catalogue)
        self.rules = rules
        self.values: PolicyValues = catalogue.values
        self.memoise = memoise
        self._analyse = analyse
        self._outcomes: tuple[Outcome, ...] = tuple(o for _, o in rules.outcomes)
        self._outcome_rule: tuple[int, ...] = tuple(i for i, _ in rules.outcomes)
        self._parts: dict[tuple[object, ...], tuple[tuple[RuleTrace, ...], str, str]] = {}
        # Positions, in the returned "texts" tuple, of each rule's why-not choice (rules with
        # more than one case) and notice flag.
        self._variant_slot: dict[int, int] = {}
        self._notice_slot: dict[int, int] = {}
        slot = 0
        for i, rule in enumerate(rules.rules):
            if len(rule.why_not) > 1:
                self._variant_slot[i] = slot
                slot += 1
        for i, rule in enumerate(rules.rules):
            if rule.notice is not None:
                self._notice_slot[i] = slot
                slot += 1
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
        n_slots = len(self._variant_slot) + len(self._notice_slot)
        slots = ["-1"] * n_slots
        lines = [
            "def evaluate(ev, ci, di, channel, intl, sms, has_text, ingress):",
            "    cl = dl = pf = ct = None",
        ]
        for i, rule in enumerate(self.rules.rules):
            if rule.notice is not None:
                local = f"z{i}"
                lines.append(f"    {local} = {compiler.condition(rule.notice.when)}")
                slots[self._notice_slot[i]] = local
        k = 0
        for i, rule in enumerate(self.rules.rules):
            lines.append(f"    # {rule.priority} {rule.name}")
            texts = "(" + "".join(f"{s}, " for s in slots) + ")"
            for outcome in rule.outcomes:
                folded = catalogue.fold(outcome.when)
                if folded != Const(False):  # an outcome the policy rules out costs nothing
                    lines.append(f"    if {compiler.condition(folded)}:")
                    lines.append(f"        return {k}, {texts}, cl, dl, pf, ct")
                k += 1
            if i in self._variant_slot:
                local = f"v{i}"
                cases = rule.why_not
                expr = str(len(cases) - 1)
                for j in range(len(cases) - 2, -1, -1):
                    expr = f"{j} if {compiler.condition(cases[j].when)} else ({expr})"
                lines.append(f"    {local} = {expr}")
                slots[self._variant_slot[i]] = local
        lines.append("    raise AssertionError('no rule fired: the last rule must always fire')")
        return "\n".join(lines) + "\n"

    # -- deciding -------------------------------------------------------------------------------

    def decide(self, event: ScreeningEvent) -> Decision:
        """The :class:`Decision` for ``event``; never raises on bad numbers."""
        analyse = self._analyse
        raw = event.caller
        caller = analyse(raw if isinstance(raw, str) else str(raw))
        raw = event.callee
        callee = analyse(raw if isinstance(raw, str) else str(raw))
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
        outcome = self._outcomes[k]
        facts = tuple.__new__(
            EventFacts, (caller, callee, channel, event, cl, dl, pf, ct, self.values)
        )
        detail = outcome.detail
        if not isinstance(detail, str):
            detail = detail(facts)
        origin = caller.origin_label
        key = (k, texts, detail, channel, origin)
        memo = self.memoise
        parts = self._parts.get(key) if memo else None
        if parts is None:
            parts, dynamic = self._build_parts(k, texts, detail, channel, origin, facts)
            if memo and not dynamic:
                if len(self._parts) >= _PARTS_MEMO_SIZE:
                    self._parts.clear()
                self._parts[key] = parts
        trace, sip_reason, message = parts
        return new_decision(
            outcome.verdict,
            outcome.reason,
            self.rules.rules[self._outcome_rule[k]].name,
            outcome.sip_status or 0,
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
        texts: tuple[int | bool, ...],
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
            case = 0 if slot is None else int(texts[slot])
            line = self._static_why_not[j][case]
            if line is None:
                text = rules[j].why_not[case].text
                assert not isinstance(text, str)
                line = RuleTrace(rules[j].name, rules[j].priority, False, text(facts))
                dynamic = True
            before.append(line)
        notices = [
            (j, rules[j].notice) for j, slot in self._notice_slot.items() if bool(texts[slot])
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
