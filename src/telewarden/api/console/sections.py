"""The console's sections: what the navigation shows and which routers are mounted.

A section is a name in both languages, its start path, the permission a role needs to see it,
and an optional router of its pages. The built-in sections (dashboard, policy, numbers, audit)
are registered by ``site.py``; a feature module registers its own::

    from telewarden.api.console import Section, register_section
    register_section(Section("cases", "案件", "Cases", "/console/cases", Permission.READ, router))

before ``create_app`` runs (e.g. at import of the feature's API module).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from telewarden.api.auth import Permission

__all__ = ["Section", "register_section", "sections"]


@dataclass(frozen=True, slots=True)
class Section:
    """One entry of the console's navigation."""

    key: str
    label_zh: str
    label_en: str
    path: str
    permission: Permission = Permission.READ
    router: APIRouter | None = None
    order: int = 100

    def label(self, lang: str) -> str:
        """The label in ``lang``."""
        return self.label_zh if lang == "zh" else self.label_en


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """Add (or replace, by key) a section of the console."""
    _SECTIONS[section.key] = section


def sections() -> list[Section]:
    """Every registered section, in navigation order."""
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
