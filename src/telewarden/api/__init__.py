"""The service: REST API (``/v1``) and the analyst console over the application layer.

``create_app`` builds the FastAPI application from a context factory; ``telewarden serve``
runs it under uvicorn. Routes only parse, call a service and render; errors are mapped to
status codes in ``errors.py``; who may call what is in ``auth.py``.
"""

from telewarden.api.app import create_app
from telewarden.api.state import ApiConfig

__all__ = ["ApiConfig", "create_app"]
