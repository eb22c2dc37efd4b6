"""Verify the tamper-evident audit log (``telewarden audit verify``)."""

from __future__ import annotations

from telewarden.core.disposal.audit_chain import ChainReport, verify_chain
from telewarden.core.disposal.ports import AuditChain

__all__ = ["verify_audit"]


def verify_audit(log: AuditChain) -> ChainReport:
    """Walk the whole chain; the report names the first row that does not hold."""
    entries = log.iter_audit_chain()
    try:
        return verify_chain(entries)
    finally:
        close = getattr(entries, "close", None)
        if close is not None:
            close()
