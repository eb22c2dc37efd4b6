"""``MemoryServiceStore``: the service's accounts, sessions and read models beside a MemoryStore.

The twin of ``storage.service_sql.SqlServiceStore`` for tests and embedding: account changes go
to the memory store's audit log, decisions to its decision log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.storage.protocol import DecisionRecord
from telewarden.adapters.storage.service_sql import (
    compact_decision,
    hashed_forms,
    key_to_dict,
    user_to_dict,
)
from telewarden.core.errors import ConflictError
from telewarden.core.service_ports import ApiKey, DecisionCount, LoggedDecision, Session, User

__all__ = ["MemoryServiceStore"]


class MemoryServiceStore:
    """A ``ServiceStore`` in dictionaries, writing its audit records to ``store``."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._users: dict[str, User] = {}
        self._keys: dict[str, ApiKey] = {}
        self._sessions: dict[str, Session] = {}

    def add_user(self, user: User, *, actor: str) -> None:
        """Create a user; ConflictError when the username is taken."""
        if user.username in self._users:
            raise ConflictError(f"user {user.username!r} exists already")
        self._users[user.username] = user
        self.store._record(
            actor=actor,
            entity="user",
            key=user.username,
            action="create",
            before=None,
            after=user_to_dict(user),
        )

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        return self._users.get(username)

    def list_users(self) -> list[User]:
        """Every user, by username."""
        return [self._users[k] for k in sorted(self._users)]

    def add_key(self, key: ApiKey, *, actor: str) -> None:
        """Store a new API key."""
        self._keys[key.key_id] = key
        self.store._record(
            actor=actor, entity="api_key", key=key.key_id, action="create", before=None,
            after=key_to_dict(key),
        )  # fmt: skip

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``key_hash``, or None."""
        return next((k for k in self._keys.values() if k.key_hash == key_hash), None)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def revoke_key(self, key_id: str, *, actor: str, at: dt.datetime) -> ApiKey | None:
        """Mark the key revoked; the key as it was, or None."""
        before = self._keys.get(key_id)
        if before is None:
            return None
        if before.revoked_at is None:
            after = dataclasses.replace(before, revoked_at=at)
            self._keys[key_id] = after
            self.store._record(
                actor=actor, entity="api_key", key=key_id, action="revoke",
                before=key_to_dict(before), after=key_to_dict(after),
            )  # fmt: skip
        return before

    def add_session(self, session: Session) -> None:
        """Store a session token."""
        self._sessions[session.token_hash] = session

    def session_by_hash(self, token_hash: str) -> Session | None:
        """The session, or None."""
        return self._sessions.get(token_hash)

    def remove_session(self, token_hash: str) -> None:
        """Forget the session."""
        self._sessions.pop(token_hash, None)

    def change_counter(self) -> int:
        """The number of audit records so far."""
        return len(self.store._audit)

    def log_decisions(self, items: Sequence[LoggedDecision]) -> None:
        """Append the decisions to the memory store's decision log."""
        for item in items:
            document = compact_decision(self.store.keyring, item)
            event = document.pop("event")
            self.store._decisions.append(DecisionRecord(item.at, item.actor, event, document))

    def decision_counts(self, since: dt.datetime) -> list[DecisionCount]:
        """Logged single screens since ``since`` by day, channel, verdict and reason."""
        counts: Counter[tuple[dt.date, str, str, str]] = Counter()
        for record in self.store._decisions:
            if record.at >= since:
                counts[
                    (
                        record.at.astimezone(dt.UTC).date(),
                        str(record.event.get("channel")),
                        str(record.decision.get("verdict")),
                        str(record.decision.get("reason")),
                    )
                ] += 1
        return [DecisionCount(*key, n) for key, n in counts.items()]

    def decisions_about(self, numbers: Sequence[str], *, limit: int) -> list[dict[str, object]]:
        """The newest logged decisions whose caller or callee is one of ``numbers``."""
        forms = hashed_forms(self.store.keyring, numbers)
        found: list[dict[str, object]] = []
        for record in reversed(self.store._decisions):
            caller, callee = str(record.event.get("caller")), str(record.event.get("callee"))
            if caller in forms or callee in forms:
                found.append(
                    {
                        "at": record.at,
                        "actor": record.actor,
                        "channel": record.event.get("channel"),
                        "caller": forms.get(caller, caller),
                        "callee": forms.get(callee, callee),
                        "verdict": record.decision.get("verdict"),
                        "reason": record.decision.get("reason"),
                        "rule": record.decision.get("rule"),
                    }
                )
                if len(found) >= limit:
                    break
        return found
