"""Account use cases: users with hashed passwords, integrators' API keys, login sessions.

Passwords are hashed with Argon2id (pwdlib, a maintained library); API keys and session tokens
are long random secrets (``secrets.token_urlsafe``), so only their SHA-256 is stored and a
request is authenticated with one indexed look-up instead of a deliberately slow hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.ports import Clock
from telewarden.core.service_ports import ApiKey, Role, ServiceStore, Session, User

__all__ = [
    "KEY_PREFIX",
    "NewKey",
    "create_key",
    "create_user",
    "key_for_secret",
    "login",
    "logout",
    "parse_role",
    "revoke_key",
    "session_user",
    "sha256",
    "use_password_hasher",
]

KEY_PREFIX = "twk_"
MIN_PASSWORD = 10
SESSION_TTL = dt.timedelta(hours=12)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


_HASHER: list[Any] = []


def _hasher() -> Any:
    if not _HASHER:
        from pwdlib import PasswordHash

        _HASHER.append(PasswordHash.recommended())
    return _HASHER[0]


def use_password_hasher(hasher: Any) -> None:
    """Replace the Argon2id hasher (pwdlib ``PasswordHash``); tests use cheaper parameters.

    Hashes made with other parameters still verify: the PHC string carries its parameters.
    """
    _HASHER[:] = [hasher]
    _dummy_hash.cache_clear()


def sha256(secret: str) -> str:
    """Hex SHA-256 of a secret, the form keys and tokens are stored and looked up in.

    Examples
    --------
    >>> sha256("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_role(raw: str) -> Role:
    """A role name (any case), else InvalidInputError."""
    try:
        return Role(raw.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"role must be one of {names}, not {raw!r}") from None


def create_user(
    store: ServiceStore, clock: Clock, username: str, password: str, role: str, *, actor: str
) -> User:
    """Create a user with an Argon2id password hash; ConflictError when the name is taken."""
    if not _USERNAME.match(username):
        raise InvalidInputError(
            "a username is 1-64 letters, digits or . _ @ - (no spaces), not " + repr(username)
        )
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"a password needs at least {MIN_PASSWORD} characters")
    user = User(username, parse_role(role), _hasher().hash(password), clock.now())
    store.add_user(user, actor=actor)
    return user


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: ``secret`` is shown once and never stored."""

    key: ApiKey
    secret: str


def create_key(store: ServiceStore, clock: Clock, name: str, *, actor: str) -> NewKey:
    """A new integrator key (screening only) named ``name``."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInputError("a key needs a name of 1-64 characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(secret[:12], name, Role.INTEGRATOR, sha256(secret), clock.now())
    store.add_key(key, actor=actor)
    return NewKey(key, secret)


def revoke_key(store: ServiceStore, clock: Clock, key_id: str, *, actor: str) -> ApiKey:
    """Revoke the key; NotFoundError when there is none with that id."""
    key = store.revoke_key(key_id.strip(), actor=actor, at=clock.now())
    if key is None:
        raise NotFoundError(f"no API key {key_id!r}")
    return key


def key_for_secret(store: ServiceStore, secret: str) -> ApiKey | None:
    """The live (not revoked) key for ``secret``, or None."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = store.key_by_hash(sha256(secret))
    return key if key is not None and key.revoked_at is None else None


def login(
    store: ServiceStore, clock: Clock, username: str, password: str
) -> tuple[User, str] | None:
    """The user and a new session token when the password is right, else None.

    A wrong username costs the same hash as a wrong password, so timing does not tell which
    usernames exist.
    """
    user = store.get_user(username)
    hasher = _hasher()
    if user is None or user.disabled:
        hasher.verify(password, _dummy_hash())
        return None
    if not hasher.verify(password, user.password_hash):
        return None
    token = secrets.token_urlsafe(32)
    now = clock.now()
    store.add_session(Session(sha256(token), user.username, now, now + SESSION_TTL))
    return user, token


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return str(_hasher().hash(secrets.token_urlsafe(16)))


def session_user(store: ServiceStore, clock: Clock, token: str) -> User | None:
    """The user of a live session token, else None (expired sessions are removed)."""
    session = store.session_by_hash(sha256(token))
    if session is None:
        return None
    if session.expires_at <= clock.now():
        store.remove_session(session.token_hash)
        return None
    user = store.get_user(session.username)
    return user if user is not None and not user.disabled else None


def logout(store: ServiceStore, token: str) -> None:
    """End the session of ``token``."""
    store.remove_session(sha256(token))
