"""`telewarden policy show|set|history`: the versioned screening policy (``PolicySettings``).

``set`` takes a dotted key and a value (JSON when it parses, else text), validates the whole
document with ``PolicySettings`` and stores it as a new version, audited with before and after.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from telewarden.cli.screen import ACTOR_HELP, open_store, print_json, resolve_actor, stdout
from telewarden.core.errors import InvalidInputError

app = typer.Typer(help="Show and change the screening policy.", no_args_is_help=True)


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


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON."),
) -> None:
    """Show the policy in force and its version."""
    store = open_store()
    try:
        policy = store.get_policy()
        version = store.policy_version()
    finally:
        store.close()
    document = policy.model_dump(mode="json")
    if as_json:
        print_json({"version": version, "policy": document})
        return
    from rich.table import Table

    label = f"v{version}" if version else "built-in defaults"
    table = Table(title=f"Screening policy ({label})")
    table.add_column("Key")
    table.add_column("Value")
    for key, value in document.items():
        if isinstance(value, dict) and value:
            for sub, subvalue in value.items():
                table.add_row(f"{key}.{sub}", json.dumps(subvalue, ensure_ascii=False))
        else:
            table.add_row(key, json.dumps(value, ensure_ascii=False))
    stdout().print(table)


@app.command("set")
def set_(
    key: str = typer.Argument(
        ..., help="Dotted key, e.g. region_overrides.广东.cross_border_block_calls"
    ),
    value: str = typer.Argument(..., help='New value; JSON (false, 3, ["MM"]) or text.'),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Change one policy setting; the whole policy is validated and stored as a new version."""
    from pydantic import ValidationError

    from telewarden.core.screening import PolicySettings

    parts = key.split(".")
    top = parts[0]
    if top == "region_overrides" and len(parts) >= 2:
        translated = region_key(parts[1])
        if translated != parts[1]:
            stdout().print(f"{parts[1]} is stored as {translated}, as the number data spells it")
            parts[1] = translated
            key = ".".join(parts)
    if top not in PolicySettings.model_fields:
        known = ", ".join(PolicySettings.model_fields)
        raise InvalidInputError(f"unknown policy key {top!r}; known keys: {known}")
    store = open_store()
    try:
        current = store.get_policy()
        document = apply_setting(current.model_dump(mode="json"), key, parse_value(value))
        try:
            policy = PolicySettings.model_validate(document)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidInputError(f"invalid value for {key}: {problems}") from exc
        if policy == current:
            stdout().print(f"{key} already has that value; policy unchanged")
            return
        version = store.set_policy(policy, actor=resolve_actor(actor))
    finally:
        store.close()
    stdout().print(
        f"policy v{version}: {key} = {json.dumps(parse_value(value), ensure_ascii=False)}"
    )


@app.command("history")
def history(
    limit: int = typer.Option(20, "--limit", min=1, help="How many changes to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """Show the audit log of policy changes, newest first."""
    store = open_store()
    try:
        records = store.audit_log(entity="policy", limit=limit)
    finally:
        store.close()
    if as_json:
        print_json(
            [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "version": r.entity_key,
                    "before": r.before,
                    "after": r.after,
                }
                for r in records
            ]
        )
        return
    from rich.table import Table

    table = Table(title="Policy changes")
    for column in ("At (UTC)", "Actor", "Version", "Changed"):
        table.add_column(column)
    for r in records:
        before, after = r.before or {}, r.after or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        table.add_row(r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.entity_key, ", ".join(changed))
    stdout().print(table)
