"""The console's words in Chinese and English; ``zh`` is the default.

Pages call ``t(key)``; a key missing from the table is shown as itself, and a test checks that
every key the templates use has both languages.
"""

from __future__ import annotations

LANGS = ("zh", "en")

WORDS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app": ("电信反诈平台", "telewarden"),
    "dashboard": ("总览", "Dashboard"),
    "policy": ("策略", "Policy"),
    "numbers": ("号码", "Numbers"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "wrong_login": ("用户名或密码错误", "Wrong username or password"),
    "role": ("角色", "Role"),
    "stopped_per_day": (
        "每日拦截的呼叫和短信（按原因）",
        "Calls and SMS stopped per day, by reason",
    ),
    "batch_per_day": (
        "每日批量筛查（已筛查 / 已拦截）",
        "Batch screening per day (screened / blocked)",
    ),
    "screened": ("已筛查", "Screened"),
    "blocked": ("已拦截", "Blocked"),
    "labelled": ("已标注", "Labelled"),
    "calls": ("呼叫", "Calls"),
    "sms": ("短信", "SMS"),
    "batch": ("批量", "Batch"),
    "last_days": ("最近天数", "Last days"),
    "recent_decisions": ("最近的判定", "Recent decisions"),
    "no_data": ("暂无数据", "No data yet"),
    "time": ("时间", "Time"),
    "caller": ("主叫", "Caller"),
    "callee": ("被叫", "Callee"),
    "channel": ("渠道", "Channel"),
    "verdict": ("判定", "Verdict"),
    "reason": ("原因", "Reason"),
    "actor": ("操作人", "Actor"),
    "cross_border": ("跨境默认设置", "Cross-border defaults"),
    "block_calls": ("默认拦截跨境呼叫", "Block cross-border calls by default"),
    "block_sms": ("默认拦截跨境短信", "Block cross-border SMS by default"),
    "region_overrides": ("地区设置", "Regional overrides"),
    "region": ("地区", "Region"),
    "high_risk": ("高风险国家/地区", "High-risk countries"),
    "content_inspection": ("短信内容检查", "SMS content inspection"),
    "version": ("版本", "Version"),
    "set_setting": ("修改设置", "Change a setting"),
    "key": ("键", "Key"),
    "value": ("值（JSON）", "Value (JSON)"),
    "save": ("保存", "Save"),
    "optin_lookup": ("开通查询", "Opt-in look-up"),
    "subscriber": ("用户号码", "Subscriber number"),
    "look_up": ("查询", "Look up"),
    "scope": ("范围", "Scope"),
    "opted_in": ("已开通", "Opted in"),
    "opted_out": ("已拒绝", "Opted out"),
    "source": ("来源", "Source"),
    "no_optins": (
        "无开通记录（跨境默认拦截）",
        "No opt-in records (cross-border blocked by default)",
    ),
    "lists": ("黑白名单", "Deny and allow lists"),
    "deny": ("黑名单", "Deny list"),
    "allow": ("白名单", "Allow list"),
    "entries": ("条", "entries"),
    "prefix_search": ("按前缀查找", "Find by prefix"),
    "add_entry": ("添加条目", "Add an entry"),
    "pattern": ("号码或前缀", "Number or prefix"),
    "match": ("匹配", "Match"),
    "add": ("添加", "Add"),
    "open_number": ("打开号码", "Open a number"),
    "number_page": ("号码档案", "Number profile"),
    "analysis": ("号码分析", "Analysis"),
    "origin": ("来源地", "Origin"),
    "kind": ("类型", "Kind"),
    "carrier": ("运营商", "Carrier"),
    "location": ("归属地", "Location"),
    "valid": ("有效", "Valid"),
    "list_status": ("名单状态", "List status"),
    "not_listed": ("不在名单中", "Not listed"),
    "decisions_about": ("相关判定", "Decisions about this number"),
    "not_a_number": ("无法识别的号码", "Not a recognisable number"),
    "forbidden": ("无权访问", "Not allowed"),
    "forbidden_text": ("您的角色无权执行此操作。", "Your role may not do this."),
    "saved": ("已保存", "Saved"),
    "error": ("错误", "Error"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "more_sections": ("更多模块", "More sections"),
    "language": ("English", "中文"),
    "audit": ("审计日志", "Audit log"),
    "entity": ("对象", "Entity"),
    "action": ("操作", "Action"),
    # disposal and early warning
    "cases": ("案件", "Cases"),
    "case": ("案件", "Case"),
    "case_queue": ("案件队列", "Case queue"),
    "measures": ("处置措施", "Measures"),
    "measures_in_force": ("生效中的处置措施", "Measures in force"),
    "appeals": ("申诉", "Appeals"),
    "warnings": ("预警", "Warnings"),
    "warnings_sent": ("已发送预警", "Warnings sent"),
    "state": ("状态", "State"),
    "all": ("全部", "All"),
    "fraud_type": ("诈骗类型", "Fraud type"),
    "filter": ("筛选", "Filter"),
    "opened": ("立案时间", "Opened"),
    "flags": ("线索", "Flags"),
    "evidence": ("证据", "Evidence"),
    "score": ("分数", "Score"),
    "pending": ("待审批", "Pending"),
    "approval": ("审批", "Approval"),
    "deadline": ("期限", "Deadline"),
    "ends": ("到期", "Ends"),
    "lifted_because": ("解除原因", "Lifted because"),
    "propose": ("提议", "Propose"),
    "propose_measure": ("提议处置措施", "Propose a measure"),
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "lift": ("解除", "Lift"),
    "suspend": ("停机", "Suspend"),
    "restrict": ("限制呼出", "Restrict"),
    "reverify": ("重新实名核验", "Re-verify"),
    "warn": ("警示", "Warn"),
    "decision": ("处理决定", "Decision"),
    "confirm": ("确认诈骗", "Confirm fraud"),
    "clear": ("排除（非诈骗）", "Clear (not fraud)"),
    "note": ("备注", "Note"),
    "notice": ("告知书", "Notice to the subscriber"),
    "no_notice": ("尚无告知（措施生效时发送）", "No notice yet (sent when a measure takes effect)"),
    "file_appeal": ("登记申诉", "File an appeal"),
    "grounds": ("申诉理由", "Grounds"),
    "appeal_channel": ("渠道", "Channel"),
    "review_due": ("复核期限", "Review due"),
    "overdue": ("已逾期", "Overdue"),
    "accept_appeal": ("申诉成立（解除措施）", "Uphold the appeal (lift measures)"),
    "reject_appeal": ("驳回申诉", "Reject the appeal"),
    "open_case": ("立案", "Open a case"),
    "no_cases": ("暂无案件", "No cases"),
    "cards_flagged": ("被标记号卡", "Cards flagged"),
    "cards_disposed": ("已处置号卡", "Cards disposed"),
    "flagged_disposed_per_day": ("每日标记 / 处置的号卡", "Cards flagged / disposed per day"),
    "cases_by_fraud_type": ("按诈骗类型的案件", "Cases by fraud type"),
    "warnings_per_day": ("每日发送的预警", "Warnings sent per day"),
    "band": ("风险等级", "Band"),
    "risk": ("风险", "Risk"),
    "send_at": ("发送时间", "Send at"),
    "text": ("内容", "Text"),
    "msisdn": ("号码", "Number"),
    "cases_of_number": ("该号码的案件", "Cases of this number"),
    "supervisor_only": ("需主管批准", "Needs a supervisor"),
    "by": ("操作人", "By"),
    "not_found": ("未找到", "Not found"),
}


REASONS_ZH: dict[str, str] = {
    "emergency_callee": "紧急呼叫",
    "allow_listed": "白名单",
    "service_number_impersonation": "冒充服务号码",
    "spoofed_domestic_on_international": "境外来话伪造境内号码",
    "missing_country_code": "缺少国家代码",
    "unparseable_caller_id": "主叫号码无法解析",
    "invalid_caller_id": "主叫号码无效",
    "deny_listed_number": "黑名单号码",
    "deny_listed_prefix": "黑名单号段",
    "content_scam": "诈骗内容",
    "content_spam": "垃圾内容",
    "high_risk_origin": "高风险来源地",
    "cross_border_opted_out": "用户拒绝跨境",
    "cross_border_opted_in": "用户已开通跨境",
    "cross_border_default_block": "跨境默认拦截",
    "cross_border_allowed": "跨境放行",
    "domestic": "境内",
    "unknown": "未知",
    "card_measure": "号卡处置措施",
}
"""Reason codes in Chinese; English pages show the stable code itself."""


def reason_label(code: str, lang: str) -> str:
    """A reason code as the page shows it.

    Examples
    --------
    >>> reason_label("deny_listed_number", "zh"), reason_label("deny_listed_number", "en")
    ('黑名单号码', 'deny_listed_number')
    """
    return REASONS_ZH.get(code, code) if lang == "zh" else code


def translate(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang`` (``zh`` or ``en``); the key itself when unknown.

    Examples
    --------
    >>> translate("dashboard", "zh"), translate("dashboard", "en")
    ('总览', 'Dashboard')
    """
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]
