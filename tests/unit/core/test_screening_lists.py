"""Allow/deny lists, the opt-in book and policy settings of the screening core."""

from __future__ import annotations

import datetime as dt

import pytest

from telewarden.core.errors import InvalidInputError
from telewarden.core.screening import (
    Channel,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    OptInBook,
    OptInScope,
    PolicySettings,
    RegionPolicy,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _entry(pattern: str, match: MatchKind = MatchKind.EXACT, reason: str = "r") -> ListEntry:
    return ListEntry(pattern, match, "test", reason)


def test_exact_match_beats_prefix() -> None:
    lst = NumberList([_entry("+86171", MatchKind.PREFIX, "range"), _entry("+8617100000000")])
    hit = lst.match("+8617100000000")
    assert hit is not None and hit.match is MatchKind.EXACT


def test_longest_prefix_wins() -> None:
    lst = NumberList(
        [_entry("+86", MatchKind.PREFIX, "short"), _entry("+86171", MatchKind.PREFIX, "long")]
    )
    hit = lst.match("+8617112345678")
    assert hit is not None and (hit.pattern, hit.reason) == ("+86171", "long")


def test_prefix_longer_than_number_does_not_match() -> None:
    lst = NumberList([_entry("+861711234567890", MatchKind.PREFIX)])
    assert lst.match("+86171") is None


@pytest.mark.parametrize("bad", ["", "+", "abc", "+86-x"], ids=["empty", "plus", "abc", "x"])
def test_rejects_non_digit_patterns(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        NumberList().add(_entry(bad))


def test_remove_reports_whether_anything_was_removed() -> None:
    lst = NumberList([_entry("+86171", MatchKind.PREFIX), _entry("+8613800138000")])
    assert lst.remove("+86171")
    assert not lst.remove("+86171")
    assert lst.match("+8617112345678") is None
    assert lst.prefix_lengths == ()
    assert len(lst) == 1


def test_iterates_entries_with_source_and_reason() -> None:
    entries = [_entry("+86171", MatchKind.PREFIX, "range"), _entry("+8613800138000")]
    assert sorted(NumberList(entries), key=lambda e: e.pattern) == sorted(
        entries, key=lambda e: e.pattern
    )


def test_bulk_add_shares_metadata() -> None:
    lst = NumberList()
    added = lst.add_exact_many((f"+86138{i:08d}" for i in range(1000)), "feed", "fraud")
    assert added == 1000 == len(lst)
    hit = lst.match("+8613800000999")
    assert hit is not None and (hit.source, hit.reason) == ("feed", "fraud")


def test_version_changes_on_every_edit() -> None:
    lst = NumberList()
    v0 = lst.version
    lst.add(_entry("+8613800138000"))
    assert lst.version > v0


def test_opt_in_book_replaces_same_scope_and_counts() -> None:
    book = OptInBook()
    book.set(OptIn("+8613800138000", OptInScope.CALLS, True, T0))
    book.set(OptIn("+8613800138000", OptInScope.CALLS, False, T0))
    book.set(OptIn("+8613800138000", OptInScope.SMS, True, T0))
    assert len(book) == 2 == len(list(book))
    record = book.lookup("+8613800138000", Channel.CALL)
    assert record is not None and not record.opted_in


@pytest.mark.parametrize(
    ("scope", "channel", "covered"),
    [
        (OptInScope.CALLS, Channel.CALL, True),
        (OptInScope.CALLS, Channel.SMS, False),
        (OptInScope.SMS, Channel.SMS, True),
        (OptInScope.BOTH, Channel.CALL, True),
        (OptInScope.BOTH, Channel.UNKNOWN, False),
    ],
    ids=["calls-call", "calls-sms", "sms-sms", "both-call", "both-unknown"],
)
def test_scope_covers_channels(scope: OptInScope, channel: Channel, covered: bool) -> None:
    assert scope.covers(channel) is covered


def test_remove_unknown_opt_in_is_false() -> None:
    assert not OptInBook().remove("+8613800138000", OptInScope.BOTH)


def test_policy_settings_round_trip_through_json() -> None:
    policy = PolicySettings(
        cross_border_block_sms=False,
        region_overrides={"Zhejiang": RegionPolicy(cross_border_block_calls=True)},
        content_inspection=False,
    )
    again = PolicySettings.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert again.region_overrides["Zhejiang"].cross_border_block_calls is True


def test_policy_settings_count_assignments() -> None:
    policy = PolicySettings()
    policy.appeal_contact = "10010"
    assert policy.revision == 1
