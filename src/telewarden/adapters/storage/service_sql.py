"""``SqlServiceStore``: the service's accounts, sessions and read models over the store's engine.

It shares the engine (and so the transaction log and the audit table) of the ``SqlStore`` it
is built beside; account changes are audited in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from telewarden.adapters.storage.models import AuditRow, DecisionRow
from telewarden.adapters.storage.protocol import ephemeral_keyring, private_decision
from telewarden.adapters.storage.service_models import ApiKeyRow, SessionRow, UserRow
from telewarden.adapters.storage.sql import append_audit
from telewarden.core.errors import ConflictError
from telewarden.core.ports import AuditRecord, Clock
from telewarden.core.privacy import KeyRing, number_keys
from telewarden.core.service_ports import (
    ApiKey,
    DecisionCount,
    LoggedDecision,
    Role,
    Session,
    User,
)

__all__ = ["SqlServiceStore", "user_to_dict"]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def user_to_dict(user: User) -> dict[str, Any]:
    """JSON-ready form for the audit log (the password hash is left out)."""
    return {"username": user.username, "role": str(user.role), "disabled": user.disabled}


def key_to_dict(key: ApiKey) -> dict[str, Any]:
    """JSON-ready form for the audit log (the key hash is left out)."""
    return {
        "key_id": key.key_id,
        "name": key.name,
        "role": str(key.role),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def compact_decision(ring: KeyRing, item: LoggedDecision) -> dict[str, Any]:
    """The logged document of a service screen: the event and the verdict, without the trace
    and number analyses (``Screener.decide`` re-creates those for one event on demand; writing
    them cost six times the screen itself); the numbers as keyed hashes under ``ring``."""
    event, decision = item.event, item.decision
    document = {
        "verdict": decision.verdict.value,
        "reason": decision.reason.value,
        "rule": decision.rule,
        "sip_status": decision.sip_status,
        "sip_reason": decision.sip_reason,
        "origin": decision.origin,
        "message": decision.message,
    }
    private = private_decision(ring, event, decision, document)
    return {"event": private.event, **private.document}


def decision_row(ring: KeyRing, item: LoggedDecision) -> dict[str, Any]:
    """The ``decision_log`` row of one service screen (columns as ``SqlStore.log_decision``)."""
    event, decision = item.event, item.decision
    document = compact_decision(ring, item)
    return {
        "at": item.at,
        "actor": item.actor,
        "channel": str(event.channel),
        "ingress": str(event.ingress),
        "caller": document["event"]["caller"],
        "callee": document["event"]["callee"],
        "verdict": str(decision.verdict),
        "reason": str(decision.reason),
        "rule": decision.rule[:64],
        "sip_status": decision.sip_status,
        "origin": decision.origin[:64],
        "decision": document,
    }


def hashed_forms(ring: KeyRing, numbers: Sequence[str]) -> dict[str, str]:
    """Each stored form of ``numbers`` (hashed under every key, and clear for rows logged before
    numbers were hashed) mapped to the number as asked for, to show it on the analyst's page."""
    from telewarden.core.numbers import NumberIntel

    intel = NumberIntel(cache_size=16)
    forms: dict[str, str] = {}
    for number in numbers:
        # The log hashes a number's E.164 form when it has one (``private_decision``).
        spellings = {number, intel.normalise(number) or number}
        for spelling in sorted(spellings):
            for stored in [*number_keys(ring, spelling), spelling]:
                forms.setdefault(stored, number)
    return forms


class SqlServiceStore:
    """Accounts, sessions, decision statistics and the change counter in SQL.

    Parameters
    ----------
    engine : Engine
        The migrated engine of the screening store (``SqlStore.engine``).
    clock : Clock
        Source of audit timestamps.
    keyring : KeyRing, optional
        The screening store's key ring (``SqlStore.keyring``): logged numbers are hashed under it.
    """

    def __init__(self, engine: Engine, clock: Clock, keyring: KeyRing | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.keyring: KeyRing = keyring or ephemeral_keyring()

    def _audit(
        self,
        conn: Any,
        actor: str,
        entity: str,
        key: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        # The one write path of the audit log: linked into the hash chain (``append_audit``),
        # so ``telewarden audit verify`` covers account and key changes too.
        append_audit(
            conn, [AuditRecord(self.clock.now(), actor, entity, key, action, before, after)]
        )

    # -- users ---------------------------------------------------------------------------------

    @staticmethod
    def _user(row: Any) -> User:
        created = _utc(row.created_at)
        assert created is not None
        return User(row.username, Role(row.role), row.password_hash, created, row.disabled)

    def add_user(self, user: User, *, actor: str) -> None:
        """Create a user; ConflictError when the username is taken."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(UserRow),
                    {
                        "username": user.username,
                        "role": str(user.role),
                        "password_hash": user.password_hash,
                        "created_at": user.created_at,
                        "disabled": user.disabled,
                    },
                )
                self._audit(conn, actor, "user", user.username, "create", None, user_to_dict(user))
        except IntegrityError as exc:
            raise ConflictError(f"user {user.username!r} exists already") from exc

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(UserRow).where(UserRow.username == username)).first()
        return self._user(row) if row else None

    def list_users(self) -> list[User]:
        """Every user, by username."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(UserRow).order_by(UserRow.username)).all()
        return [self._user(r) for r in rows]

    # -- API keys ------------------------------------------------------------------------------

    @staticmethod
    def _key(row: Any) -> ApiKey:
        return ApiKey(
            row.key_id,
            row.name,
            Role(row.role),
            row.key_hash,
            _utc(row.created_at),  # type: ignore[arg-type]
            _utc(row.revoked_at),
        )

    def add_key(self, key: ApiKey, *, actor: str) -> None:
        """Store a new API key."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(ApiKeyRow),
                {
                    "key_id": key.key_id,
                    "name": key.name,
                    "role": str(key.role),
                    "key_hash": key.key_hash,
                    "created_at": key.created_at,
                    "revoked_at": key.revoked_at,
                },
            )
            self._audit(conn, actor, "api_key", key.key_id, "create", None, key_to_dict(key))

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``key_hash``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).first()
        return self._key(row) if row else None

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str, *, actor: str, at: dt.datetime) -> ApiKey | None:
        """Mark the key revoked; the key as it was, or None."""
        with self.engine.begin() as conn:
            row = conn.execute(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if row is None:
                return None
            before = self._key(row)
            if before.revoked_at is None:
                conn.execute(
                    update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(revoked_at=at)
                )
                after = key_to_dict(before) | {"revoked_at": at.isoformat()}
                self._audit(conn, actor, "api_key", key_id, "revoke", key_to_dict(before), after)
        return before

    # -- sessions ------------------------------------------------------------------------------

    def add_session(self, session: Session) -> None:
        """Store a session token."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(SessionRow),
                {
                    "token_hash": session.token_hash,
                    "username": session.username,
                    "created_at": session.created_at,
                    "expires_at": session.expires_at,
                },
            )

    def session_by_hash(self, token_hash: str) -> Session | None:
        """The session, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(SessionRow).where(SessionRow.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        return Session(row.token_hash, row.username, _utc(row.created_at), _utc(row.expires_at))  # type: ignore[arg-type]

    def remove_session(self, token_hash: str) -> None:
        """Forget the session."""
        with self.engine.begin() as conn:
            conn.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))

    # -- read models ---------------------------------------------------------------------------

    def change_counter(self) -> int:
        """The newest audit record's id: every audited change raises it."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(AuditRow.id), 0))).scalar_one())

    def log_decisions(self, items: Sequence[LoggedDecision]) -> None:
        """Append many single-screen decisions in one transaction (one executemany)."""
        if not items:
            return
        with self.engine.begin() as conn:
            conn.execute(
                insert(cast(Table, DecisionRow.__table__)),
                [decision_row(self.keyring, i) for i in items],
            )

    def decision_counts(self, since: dt.datetime) -> list[DecisionCount]:
        """Logged single screens since ``since`` by day, channel, verdict and reason."""
        day = func.date(DecisionRow.at)
        query = (
            select(day, DecisionRow.channel, DecisionRow.verdict, DecisionRow.reason, func.count())
            .where(DecisionRow.at >= since)
            .group_by(day, DecisionRow.channel, DecisionRow.verdict, DecisionRow.reason)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            DecisionCount(
                r[0] if isinstance(r[0], dt.date) else dt.date.fromisoformat(str(r[0])),
                r[1],
                r[2],
                r[3],
                int(r[4]),
            )
            for r in rows
        ]

    def decisions_about(self, numbers: Sequence[str], *, limit: int) -> list[dict[str, object]]:
        """The newest logged decisions whose caller or callee is one of ``numbers``.

        The log holds numbers hashed: each of ``numbers`` is hashed under every key of the
        ring; a matching party is shown as the number asked for, the other one as its hash.
        """
        if not numbers:
            return []
        forms = hashed_forms(self.keyring, numbers)
        stored = sorted(forms)
        query = (
            select(DecisionRow)
            .where(or_(DecisionRow.caller.in_(stored), DecisionRow.callee.in_(stored)))
            .order_by(DecisionRow.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "at": _utc(r.at),
                "actor": r.actor,
                "channel": r.channel,
                "caller": forms.get(r.caller, r.caller),
                "callee": forms.get(r.callee, r.callee),
                "verdict": r.verdict,
                "reason": r.reason,
                "rule": r.rule,
            }
            for r in rows
        ]
