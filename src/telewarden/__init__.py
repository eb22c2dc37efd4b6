"""telewarden: carrier-side screening, detection and disposal of telecom and SMS fraud.

The public API is exactly ``__all__``; ``tests/test_public_api.py`` checks it.
"""

from telewarden._version import __version__

__all__ = ["__version__"]
