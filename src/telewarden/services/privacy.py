"""Privacy use cases: rewrite rows logged in clear into keyed hashes (``telewarden privacy rehash``).

Rows written before subscriber numbers were hashed (a store upgraded to this version) are
rewritten under the current key: the decision log in batches, one transaction per batch; the
opt-in and warning audit records with the hash chain re-linked in one transaction (see
``telewarden.adapters.storage.rehash``). Idempotent; the counts reconcile per table.
"""

from __future__ import annotations

from typing import Any, Protocol

from telewarden.core.errors import ConfigurationError, InvalidInputError

__all__ = ["rehash_clear_numbers"]


class Rehashable(Protocol):
    """A store that can rewrite its rows logged in clear."""

    def rehash_clear_numbers(self, *, actor: str, batch_size: int = 1000) -> list[Any]: ...


def rehash_clear_numbers(store: object, *, actor: str, batch_size: int = 1000) -> list[Any]:
    """The per-table counts (``read = rehashed + already_hashed + skipped``) of one rehash run."""
    if batch_size < 1:
        raise InvalidInputError("--batch-size must be at least 1")
    rehash = getattr(store, "rehash_clear_numbers", None)
    if rehash is None:
        raise ConfigurationError(
            f"a {type(store).__name__} keeps no rows in clear: only SQL stores can be rehashed"
        )
    counts: list[Any] = rehash(actor=actor, batch_size=batch_size)
    return counts
