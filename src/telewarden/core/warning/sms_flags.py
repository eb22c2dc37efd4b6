"""SMS intelligence flags: senders, domains and wallets that keep sending scam SMS.

What belongs here: :class:`SmsFlagger`, which takes SMS in time order with the content verdict
already computed (``telewarden.core.sms`` decides scam or not) and raises a
:class:`~telewarden.core.ports.Flag` for a sender, or for a domain or wallet address named in
the texts, once ``min_scam`` scam messages carry it within ``window``. One scam message is not
enough: a single misclassified notice must not make a bank's port a flagged subject.
"""

from __future__ import annotations

import datetime as dt
from collections import deque

from telewarden.core.ports import Flag
from telewarden.core.warning.exposure import text_subjects

__all__ = ["SmsFlagger"]


class SmsFlagger:
    """Flag SMS senders and the links and wallets of their texts after repeated scam messages.

    Parameters
    ----------
    min_scam : int
        Scam messages carrying a subject within ``window`` that make it flagged.
    window : datetime.timedelta
        The sliding window.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    >>> flagger = SmsFlagger(min_scam=2)
    >>> flagger.observe("+85591920260", t, "登录 http://etc-renz.com/rz", True)
    []
    >>> [(f.subject, f.kind) for f in flagger.observe("+85591920260", t, "见 etc-renz.com", True)]
    [('+85591920260', 'sender'), ('etc-renz.com', 'domain')]
    """

    def __init__(self, *, min_scam: int = 3, window: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.min_scam = min_scam
        self.window = window
        self._seen: dict[str, deque[dt.datetime]] = {}
        self._flagged: set[str] = set()

    def observe(
        self, sender: str, sent_at: dt.datetime, text: str | None, is_scam: bool
    ) -> list[Flag]:
        """Take one SMS and its verdict; return the flags it completes."""
        if not is_scam:
            return []
        out: list[Flag] = []
        subjects = [(sender, "sender"), *text_subjects(text)]
        for subject, kind in subjects:
            if subject in self._flagged:
                continue
            times = self._seen.setdefault(subject, deque())
            times.append(sent_at)
            while times and times[0] < sent_at - self.window:
                times.popleft()
            if len(times) >= self.min_scam:
                self._flagged.add(subject)
                del self._seen[subject]
                out.append(
                    Flag(
                        subject=subject,
                        kind=kind,
                        source="sms_intel",
                        at=sent_at,
                        reason=(
                            f"{len(times)} scam SMS carrying this {kind} within "
                            f"{self.window.total_seconds() / 60:.0f} min"
                        ),
                        evidence={"scam_messages": len(times)},
                    )
                )
        return out
