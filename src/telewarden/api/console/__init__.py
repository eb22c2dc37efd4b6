"""The analyst console: server-rendered pages (Jinja2) under ``/console``, Chinese and English.

Why server-rendered pages: every page is one request to the same process that holds the data,
works without JavaScript, needs no front-end build step, and is tested in a real browser like
any other page. Charts are inline SVG drawn on the server (``charts.py``).

Extension point: a feature adds its pages by calling :func:`register_section` with a router
of its own; the navigation lists every section the user's role may open. Disposal (cases,
measures, appeals) and early warning plug in here.
"""

from __future__ import annotations

from telewarden.api.console.sections import Section, register_section, sections
from telewarden.api.console.site import mount_console

__all__ = ["Section", "mount_console", "register_section", "sections"]
