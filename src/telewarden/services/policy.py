"""Policy use cases: read, change one setting, and the history of the versioned policy.

A change takes a dotted key and a value, validates the whole document with ``PolicySettings``
and stores it as a new version; the store audits it with before and after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import AuditLog, AuditRecord, PolicyStore
from telewarden.core.screening import PolicySettings, RegionPolicy

__all__ = [
    "PolicyChange",
    "apply_setting",
    "changed_keys",
    "parse_value",
    "policy_history",
    "policy_in_force",
    "region_key",
    "known_regions",
    "set_policy_value",
    "validate_policy",
]


# Region overrides are matched against the callee's city, province or region as the number
# data spells them, in English; operators naturally type the Chinese province name.
PROVINCES_ZH = {
    "北京": "Beijing", "天津": "Tianjin", "河北": "Hebei", "山西": "Shanxi",
    "内蒙古": "Inner Mongolia", "辽宁": "Liaoning", "吉林": "Jilin", "黑龙江": "Heilongjiang",
    "上海": "Shanghai", "江苏": "Jiangsu", "浙江": "Zhejiang", "安徽": "Anhui",
    "福建": "Fujian", "江西": "Jiangxi", "山东": "Shandong", "河南": "Henan", "湖北": "Hubei",
    "湖南": "Hunan", "广东": "Guangdong", "广西": "Guangxi", "海南": "Hainan",
    "重庆": "Chongqing", "四川": "Sichuan", "贵州": "Guizhou", "云南": "Yunnan",
    "西藏": "Tibet", "陕西": "Shaanxi", "甘肃": "Gansu", "青海": "Qinghai", "宁夏": "Ningxia",
    "新疆": "Xinjiang",
}  # fmt: skip
_ZH_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


def region_key(name: str) -> str:
    """The English spelling the screener matches for a Chinese province name; else ``name``.

    Examples
    --------
    >>> region_key("广东"), region_key("广东省"), region_key("Shenzhen")
    ('Guangdong', 'Guangdong', 'Shenzhen')
    """
    text = name.strip()
    for suffix in _ZH_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return PROVINCES_ZH.get(text, name.strip())


@cache
def known_regions() -> frozenset[str]:
    """Names a region override may use: +86 province and city names, and ISO region codes.

    Province and city names are those of libphonenumber's geocoding data (the spelling the
    screener matches), shipped as ``telewarden/data/numbers/cn_regions.txt``.
    """
    import phonenumbers

    text = resources.files("telewarden").joinpath("data", "numbers", "cn_regions.txt")
    names = {
        line.strip()
        for line in text.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return frozenset(names | set(PROVINCES_ZH.values()) | phonenumbers.SUPPORTED_REGIONS)


def validate_policy(policy: PolicySettings) -> None:
    """Invalid input when a value names no real place or leaves a contact empty.

    The document's shape is pydantic's job; this checks the values against the world: region
    override keys are provinces, cities or region codes the number data knows, high-risk
    countries are ISO 3166 alpha-2 codes libphonenumber supports, contacts are not blank.
    """
    import phonenumbers

    unknown = sorted(k for k in policy.region_overrides if k not in known_regions())
    if unknown:
        raise InvalidInputError(
            f"region_overrides: unknown province, city or region code {', '.join(unknown)} "
            "(use the English name as the number data spells it, e.g. Guangdong, Shenzhen, "
            "or a Chinese province name)"
        )
    countries = sorted(
        c for c in policy.high_risk_countries if c not in phonenumbers.SUPPORTED_REGIONS
    )
    if countries:
        raise InvalidInputError(
            f"high_risk_countries: {', '.join(countries)} is not an ISO 3166 alpha-2 code of a "
            "country with phone numbers"
        )
    for name in ("appeal_contact", "optin_instruction"):
        if not str(getattr(policy, name)).strip():
            raise InvalidInputError(f"{name} must not be empty: subscribers need it")


def parse_value(text: str) -> Any:
    """JSON when ``text`` parses as JSON (``false``, ``3``, ``["MM"]``), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply_setting(document: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with the dotted ``key`` set to ``value``.

    Examples
    --------
    >>> apply_setting({"a": {}}, "a.广东.b", False)
    {'a': {'广东': {'b': False}}}
    """
    parts = key.split(".")
    if not parts or any(not p.strip() for p in parts):
        raise InvalidInputError(f"not a setting key: {key!r}")
    updated: dict[str, Any] = json.loads(json.dumps(document))
    node = updated
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InvalidInputError(f"{'.'.join(parts[: i + 1])} is not a group of settings")
        node = child
    node[parts[-1]] = value
    return updated


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """The outcome of ``set_policy_value``."""

    key: str
    """The key as stored (a Chinese province name translated to the number data's spelling)."""
    value: Any
    version: int
    """The new version, or the one in force when nothing changed."""
    changed: bool
    translated_from: str | None = None


def _translated(key: str) -> tuple[str, str | None]:
    parts = key.split(".")
    if parts[0] == "region_overrides" and len(parts) >= 2:
        translated = region_key(parts[1])
        if translated != parts[1]:
            original = parts[1]
            parts[1] = translated
            return ".".join(parts), original
    return key, None


def _check_key(key: str) -> None:
    """Invalid input unless every level of the dotted ``key`` names a real setting.

    Pydantic ignores unknown fields, so without this an unknown key would be answered with
    "already has that value" and nothing stored.
    """
    parts = key.split(".")
    known = ", ".join(PolicySettings.model_fields)
    if parts[0] not in PolicySettings.model_fields:
        raise InvalidInputError(f"unknown policy key {parts[0]!r}; known keys: {known}")
    if parts[0] == "region_overrides":
        if len(parts) == 3 and parts[2] not in RegionPolicy.model_fields:
            fields = ", ".join(RegionPolicy.model_fields)
            raise InvalidInputError(f"unknown region setting {parts[2]!r}; known: {fields}")
        if len(parts) > 3:
            raise InvalidInputError(f"not a setting key: {key!r}")
    elif len(parts) > 1:
        raise InvalidInputError(f"{parts[0]} has no sub-settings: {key!r}")


_GATE_KEY, _BASIS_KEY = "content_inspection", "content_legal_basis"
_BASIS_EXAMPLE = '--legal-basis "AFL Art. 25/32; legal review ref ..."'


def _legal_gate(document: dict[str, Any], key: str, value: Any, basis: str | None) -> None:
    """Record the legal basis with the gate: opening needs one, closing drops it.

    Nobody may inspect telecom content without a lawful basis and a legal review (domain O23):
    ``content_inspection`` is opened only together with the basis, which the policy stores and
    the policy's audit record keeps with who and when.
    """
    basis = basis.strip() if basis is not None and basis.strip() else None
    if key == _BASIS_KEY:
        raise InvalidInputError(
            f"{_BASIS_KEY} is recorded when the gate is opened: "
            f"`telewarden policy set {_GATE_KEY} true {_BASIS_EXAMPLE}`"
        )
    if key != _GATE_KEY:
        if basis is not None:
            raise InvalidInputError(f"a legal basis goes only with {_GATE_KEY} true, not {key}")
        return
    if value is True:
        if basis is None:
            raise InvalidInputError(
                f"opening {_GATE_KEY} needs its legal basis: nobody may inspect telecom content "
                "without a lawful basis and a legal review; name them with "
                f"`telewarden policy set {_GATE_KEY} true {_BASIS_EXAMPLE}`"
            )
        document[_BASIS_KEY] = basis
    elif value is False:
        if basis is not None:
            raise InvalidInputError(f"a legal basis goes only with opening {_GATE_KEY} (true)")
        document[_BASIS_KEY] = None


def set_policy_value(
    store: PolicyStore,
    key: str,
    value_text: str,
    *,
    actor: str,
    legal_basis: str | None = None,
) -> PolicyChange:
    """Set one dotted ``key`` to ``value_text`` (JSON when it parses); a new version if it changed.

    ``content_inspection`` true needs ``legal_basis`` (the lawful basis and legal review
    reference), stored beside it and audited with the change; false drops it.
    """
    key, original = _translated(key)
    _check_key(key)
    value = parse_value(value_text)
    current = store.get_policy()
    document = apply_setting(current.model_dump(mode="json"), key, value)
    _legal_gate(document, key, value, legal_basis)
    try:
        policy = PolicySettings.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInputError(f"invalid value for {key}: {problems}") from exc
    validate_policy(policy)
    if policy == current:
        return PolicyChange(key, value, store.policy_version(), False, original)
    version = store.set_policy(policy, actor=actor)
    return PolicyChange(key, value, version, True, original)


def policy_in_force(store: PolicyStore) -> tuple[int, PolicySettings]:
    """The version in force (0: built-in defaults) and the policy."""
    return store.policy_version(), store.get_policy()


def policy_history(log: AuditLog, *, limit: int = 20) -> list[AuditRecord]:
    """The audit records of policy changes, newest first."""
    return log.audit_log(entity="policy", limit=limit)


def changed_keys(record: AuditRecord) -> list[str]:
    """Top-level keys whose value differs between a record's before and after."""
    before, after = record.before or {}, record.after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
