"""telewarden: carrier-side screening, detection and disposal of telecom and SMS fraud.

The public API is exactly ``__all__``; ``tests/test_public_api.py`` checks it. Names load on
first use (PEP 562), so ``import telewarden`` stays cheap for the command line.

Examples
--------
>>> import telewarden
>>> telewarden.Screener().decide(telewarden.ScreeningEvent("+85223456789", "13800138000")).reason
<ReasonCode.CROSS_BORDER_DEFAULT_BLOCK: 'cross_border_default_block'>
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from telewarden._version import __version__

if _typing.TYPE_CHECKING:
    from telewarden.core.numbers import NumberInfo, NumberIntel
    from telewarden.core.screening import (
        Channel,
        Decision,
        Ingress,
        PolicySettings,
        Screener,
        ScreeningEvent,
        Verdict,
        decide_frame,
    )
    from telewarden.core.sms.inspector import SmsClassifier, SmsContentInspector

_EXPORTS: dict[str, str] = {
    "Channel": "telewarden.core.screening",
    "Decision": "telewarden.core.screening",
    "Ingress": "telewarden.core.screening",
    "NumberInfo": "telewarden.core.numbers",
    "NumberIntel": "telewarden.core.numbers",
    "PolicySettings": "telewarden.core.screening",
    "Screener": "telewarden.core.screening",
    "ScreeningEvent": "telewarden.core.screening",
    "SmsClassifier": "telewarden.core.sms.inspector",
    "SmsContentInspector": "telewarden.core.sms.inspector",
    "Verdict": "telewarden.core.screening",
    "decide_frame": "telewarden.core.screening",
}

__all__ = [
    "Channel",
    "Decision",
    "Ingress",
    "NumberInfo",
    "NumberIntel",
    "PolicySettings",
    "Screener",
    "ScreeningEvent",
    "SmsClassifier",
    "SmsContentInspector",
    "Verdict",
    "__version__",
    "decide_frame",
]


def __getattr__(name: str) -> _typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telewarden' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
