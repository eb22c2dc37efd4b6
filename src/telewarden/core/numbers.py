"""Number intelligence: normalise a caller ID or number string and say what it is.

This module turns any raw number string (E.164, ``+``/``00`` international forms, Chinese
national forms, 11-digit mobiles, landlines with area codes, 400/800 numbers, 95xxx service
numbers, carrier short codes, 110/119/120/122/96110/12381/12321, 106 SMS ports) into a
:class:`NumberInfo`: its E.164 form, origin (mainland China, Hong Kong, Macao, Taiwan or a
foreign country) with English and Chinese labels, kind, validity with an explicit reason,
carrier and, for +86 numbers, province and city where Google's libphonenumber data knows them.

Service and short numbers are recognised *before* ``phonenumbers`` is asked, because the
library rejects most of them (``110`` is "too short") or misreads them (``1069012345`` parses
as a Beijing landline, but ``106`` is the SMS-port range). Prefixed forms that fraudsters use
to imitate a service number (``+110``, ``0110``, ``00110``, ``96110123``) are reported through
:attr:`NumberInfo.impersonates`.

Conventions
-----------
- ``e164`` for a Chinese service number is ``+86`` followed by the digits (``+8695588``), so
  allow and deny lists can key every number the same way.
- ``national`` is the national significant number, digits only, without the trunk ``0``
  (``1012345678`` for Beijing ``010-12345678``).
- ``+86 10 6xxxxxxx`` is a Beijing landline, while the national form ``106xxxxxxx`` is an SMS
  port: Beijing landlines need the trunk ``0`` in national form (``010 6xxxxxxx``).
- Results are cached per distinct raw string (a dictionary bounded by two generations).
  Distinct 11-digit Chinese mobiles additionally share the expensive look-ups per prefix:
  the first 5 digits fix validity and type, the first 7 carrier and location, in the
  libphonenumber metadata.

A column of distinct strings is analysed at once, with the same fields, by
:func:`telewarden.core.numbering.analyse_frame` (phonenumbers' metadata compiled into digit
automata); this module stays the per-string path and the reference it is tested against.

Nothing here performs I/O; ``phonenumbers`` ships its metadata as Python modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType, ValidationResult, carrier, geocoder
from phonenumbers.carrierdata import CARRIER_DATA
from phonenumbers.geodata import GEOCODE_DATA

__all__ = [
    "DEFAULT_HIGH_RISK_COUNTRIES",
    "MOBILE_TEMPLATE_DIGITS",
    "NumberInfo",
    "NumberIntel",
    "NumberKind",
    "Origin",
    "SERVICE_NUMBERS",
    "region_labels",
]

# Seed list of origin countries hosting documented fraud compounds ("scam centres") aimed at
# Chinese speakers. Source: OHCHR, "Online Scam Operations and Trafficking into Forced
# Criminality in Southeast Asia" (Aug 2023), which names Myanmar, Cambodia, Lao PDR and the
# Philippines as the main hosts; the MPS 2023 repatriation campaigns from northern Myanmar and
# Cambodia point the same way. ../shared/docs/domain.md (O4a) calls these "fraud-hotspot regions
# abroad" without naming them, so the list is configurable (PolicySettings.high_risk_countries).
DEFAULT_HIGH_RISK_COUNTRIES: frozenset[str] = frozenset({"MM", "KH", "LA", "PH"})

#: Leading digits of an 11-digit mainland mobile that fix its validity and line type (see
#: :meth:`NumberIntel.mobile_template`).
MOBILE_TEMPLATE_DIGITS = 5


class Origin(StrEnum):
    """Where a number comes from, as the cross-border policy sees it."""

    MAINLAND = "mainland"
    HONG_KONG = "hong_kong"
    MACAO = "macao"
    TAIWAN = "taiwan"
    FOREIGN = "foreign"
    UNKNOWN = "unknown"


class NumberKind(StrEnum):
    """What kind of number a string is (line type or service category)."""

    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE_400 = "toll_free_400"
    TOLL_FREE_800 = "toll_free_800"
    TOLL_FREE = "toll_free"
    BANK_SERVICE_95 = "bank_service_95"
    CARRIER_SERVICE = "carrier_service"
    GOVERNMENT_SERVICE = "government_service"
    EMERGENCY = "emergency"
    POLICE = "police"
    ANTI_FRAUD = "anti_fraud"
    SHORT_CODE = "short_code"
    SMS_PORT_106 = "sms_port_106"
    VOIP = "voip"
    PREMIUM = "premium"
    OTHER = "other"
    UNKNOWN = "unknown"


# Chinese service numbers with a known meaning: digits -> (kind, English label, Chinese label).
SERVICE_NUMBERS: dict[str, tuple[NumberKind, str, str]] = {
    "110": (NumberKind.POLICE, "Police", "报警电话"),
    "122": (NumberKind.POLICE, "Traffic police", "交通事故报警"),
    "12110": (NumberKind.POLICE, "Police SMS alarm", "短信报警"),
    "119": (NumberKind.EMERGENCY, "Fire service", "火警"),
    "120": (NumberKind.EMERGENCY, "Ambulance", "急救中心"),
    "112": (NumberKind.EMERGENCY, "GSM emergency", "紧急呼叫"),
    "999": (NumberKind.EMERGENCY, "Red Cross ambulance", "红十字急救"),
    "96110": (NumberKind.ANTI_FRAUD, "Anti-fraud warning hotline", "反诈预警劝阻专线"),
    "12381": (NumberKind.ANTI_FRAUD, "MIIT fraud warning SMS", "涉诈预警劝阻短信"),
    "12321": (NumberKind.GOVERNMENT_SERVICE, "Spam and fraud reporting centre", "举报受理中心"),
    "12300": (NumberKind.GOVERNMENT_SERVICE, "MIIT telecom complaints", "电信用户申诉"),
    "12315": (NumberKind.GOVERNMENT_SERVICE, "Consumer complaints", "消费者投诉"),
    "12345": (NumberKind.GOVERNMENT_SERVICE, "Government service hotline", "政务服务热线"),
    "12306": (NumberKind.GOVERNMENT_SERVICE, "Railway service", "铁路客服"),
    "12366": (NumberKind.GOVERNMENT_SERVICE, "Tax service", "纳税服务"),
    "10086": (NumberKind.CARRIER_SERVICE, "China Mobile service", "中国移动客服"),
    "10010": (NumberKind.CARRIER_SERVICE, "China Unicom service", "中国联通客服"),
    "10000": (NumberKind.CARRIER_SERVICE, "China Telecom service", "中国电信客服"),
    "10099": (NumberKind.CARRIER_SERVICE, "China Broadnet service", "中国广电客服"),
    "95588": (NumberKind.BANK_SERVICE_95, "ICBC", "工商银行"),
    "95533": (NumberKind.BANK_SERVICE_95, "China Construction Bank", "建设银行"),
    "95599": (NumberKind.BANK_SERVICE_95, "Agricultural Bank of China", "农业银行"),
    "95566": (NumberKind.BANK_SERVICE_95, "Bank of China", "中国银行"),
    "95555": (NumberKind.BANK_SERVICE_95, "China Merchants Bank", "招商银行"),
    "95559": (NumberKind.BANK_SERVICE_95, "Bank of Communications", "交通银行"),
    "95580": (NumberKind.BANK_SERVICE_95, "Postal Savings Bank", "邮储银行"),
}

# Numbers fraudsters extend with extra digits to look official (``96110123``, ``1100``).
_EXTENSION_TARGETS: tuple[str, ...] = ("96110", "12381", "110")

_SEPARATORS = str.maketrans("", "", " -().\t/\u3000")

_ORIGIN_BY_REGION: dict[str, tuple[Origin, str, str]] = {
    "CN": (Origin.MAINLAND, "Mainland China", "中国大陆"),
    "HK": (Origin.HONG_KONG, "Hong Kong", "中国香港"),
    "MO": (Origin.MACAO, "Macao", "中国澳门"),
    "TW": (Origin.TAIWAN, "Taiwan", "中国台湾"),
}

_KIND_BY_PN_TYPE: dict[int, NumberKind] = {
    PhoneNumberType.MOBILE: NumberKind.MOBILE,
    PhoneNumberType.FIXED_LINE: NumberKind.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberKind.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE: NumberKind.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: NumberKind.PREMIUM,
    PhoneNumberType.VOIP: NumberKind.VOIP,
    PhoneNumberType.SHARED_COST: NumberKind.OTHER,
    PhoneNumberType.PERSONAL_NUMBER: NumberKind.OTHER,
    PhoneNumberType.PAGER: NumberKind.OTHER,
    PhoneNumberType.UAN: NumberKind.OTHER,
    PhoneNumberType.VOICEMAIL: NumberKind.OTHER,
}

_POSSIBLE_REASON: dict[int, str] = {
    ValidationResult.TOO_SHORT: "impossible length: too short",
    ValidationResult.TOO_LONG: "impossible length: too long",
    ValidationResult.INVALID_LENGTH: "impossible length for this country",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}


_PARSE_ERROR: dict[int, str] = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "impossible length: too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "impossible length: too short",
    phonenumbers.NumberParseException.TOO_LONG: "impossible length: too long",
}


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """Everything the screening policy needs to know about one number string.

    Attributes
    ----------
    raw : str
        The string as received.
    e164 : str or None
        ``+`` country code and national number; None when the string cannot be parsed.
    national : str or None
        National significant number, digits only (no trunk ``0``).
    country_code : int or None
        Country calling code (86, 852, ...).
    region : str or None
        ISO 3166 alpha-2 region ("CN", "HK", "MO", "TW", ...).
    origin : Origin
        Mainland China, Hong Kong, Macao, Taiwan, foreign, or unknown.
    origin_label, origin_label_zh : str
        What to show the subscriber ("Hong Kong" / "中国香港").
    kind : NumberKind
        Line type or service category.
    valid : bool
        True when the number is allocated and well formed (or a known service number).
    invalid_reason : str or None
        Why ``valid`` is False, in words.
    carrier, carrier_zh : str or None
        Original carrier of a mobile range, when the metadata knows it.
    province, city : str or None
        For +86 numbers, where the metadata knows it (English names as libphonenumber spells
        them, e.g. "Guangdong", "Shenzhen"); None otherwise.
    high_risk_origin : bool
        The region is in the configured high-risk country set.
    is_service_number : bool
        A genuine Chinese service number (110, 96110, 95xxx, 100xx, 12xxx, ...).
    location_zh : str or None
        Chinese location text ("广东省深圳市").
    explicit_country_code : bool
        The string carried its country code (``+`` or ``00`` form).
    impersonates : str or None
        The service number this string imitates (``+110`` -> "110"), if any.
    service_name : str or None
        English name of a known service number ("Police", "ICBC").

    Examples
    --------
    >>> info = NumberIntel().analyse("+852 2345 6789")
    >>> (info.e164, info.origin.value, info.origin_label)
    ('+85223456789', 'hong_kong', 'Hong Kong')
    """

    raw: str
    e164: str | None
    national: str | None
    country_code: int | None
    region: str | None
    origin: Origin
    origin_label: str
    origin_label_zh: str
    kind: NumberKind
    valid: bool
    invalid_reason: str | None
    carrier: str | None
    province: str | None
    city: str | None
    high_risk_origin: bool
    is_service_number: bool
    location_zh: str | None = None
    explicit_country_code: bool = False
    impersonates: str | None = None
    service_name: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict of every field.

        Examples
        --------
        >>> NumberIntel().analyse("110").to_dict()["kind"]
        'police'
        """
        return {
            "raw": self.raw,
            "e164": self.e164,
            "national": self.national,
            "country_code": self.country_code,
            "region": self.region,
            "origin": self.origin.value,
            "origin_label": self.origin_label,
            "origin_label_zh": self.origin_label_zh,
            "kind": self.kind.value,
            "valid": self.valid,
            "invalid_reason": self.invalid_reason,
            "carrier": self.carrier,
            "province": self.province,
            "city": self.city,
            "location_zh": self.location_zh,
            "high_risk_origin": self.high_risk_origin,
            "is_service_number": self.is_service_number,
            "explicit_country_code": self.explicit_country_code,
            "impersonates": self.impersonates,
            "service_name": self.service_name,
        }


(
    _s_raw, _s_e164, _s_national, _s_cc, _s_region, _s_origin, _s_label, _s_label_zh, _s_kind,
    _s_valid, _s_invalid, _s_carrier, _s_province, _s_city, _s_high_risk, _s_service,
    _s_location_zh, _s_explicit, _s_impersonates, _s_service_name,
) = (NumberInfo.__dict__[name].__set__ for name in NumberInfo.__slots__)  # fmt: skip


def _mobile_info(
    template: NumberInfo,
    raw: str,
    n11: str,
    explicit: bool,
    where: tuple[str | None, str | None, str | None, str | None],
) -> NumberInfo:
    """A +86 mobile's NumberInfo from its prefix template, writing the slots directly.

    A frozen dataclass's ``__init__`` pays one ``object.__setattr__`` call per field; this is
    about twice as fast and builds the same frozen object.
    """
    info = object.__new__(NumberInfo)
    _s_raw(info, raw)
    _s_e164(info, "+86" + n11)
    _s_national(info, n11)
    _s_cc(info, 86)
    _s_region(info, "CN")
    _s_origin(info, template.origin)
    _s_label(info, template.origin_label)
    _s_label_zh(info, template.origin_label_zh)
    _s_kind(info, template.kind)
    _s_valid(info, template.valid)
    _s_invalid(info, template.invalid_reason)
    _s_carrier(info, where[0])
    _s_province(info, where[1])
    _s_city(info, where[2])
    _s_high_risk(info, template.high_risk_origin)
    _s_service(info, False)
    _s_location_zh(info, where[3])
    _s_explicit(info, explicit)
    _s_impersonates(info, None)
    _s_service_name(info, None)
    return info


_NOWHERE: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)


def _unknown(raw: str, reason: str, *, impersonates: str | None = None) -> NumberInfo:
    return NumberInfo(
        raw=raw,
        e164=None,
        national=None,
        country_code=None,
        region=None,
        origin=Origin.UNKNOWN,
        origin_label="Unknown",
        origin_label_zh="未知",
        kind=NumberKind.UNKNOWN,
        valid=False,
        invalid_reason=reason,
        carrier=None,
        province=None,
        city=None,
        high_risk_origin=False,
        is_service_number=False,
        impersonates=impersonates,
    )


def _longest_prefix(
    data: dict[str, dict[str, str]], digits: str, longest: int, lang: str
) -> str | None:
    """Look ``digits`` up in a libphonenumber prefix table, longest prefix first."""
    for length in range(min(longest, len(digits)), 0, -1):
        names = data.get(digits[:length])
        if names is not None:
            name = names.get(lang)
            if name is not None:
                return name or None
    return None


def _cn_location(num: phonenumbers.PhoneNumber) -> tuple[str | None, str | None, str | None]:
    """Province, city and Chinese location text of a valid +86 number, where known."""
    where = geocoder.description_for_valid_number(num, "en")
    if not where or where == "China":
        return None, None, None
    parts = [p.strip() for p in where.split(",")]
    if len(parts) >= 2:
        city, province = parts[0], parts[-1]
    else:
        # Municipalities (Beijing, Shanghai, ...) are their own province.
        city = province = parts[0]
    return province, city, geocoder.description_for_valid_number(num, "zh") or None


def region_labels(region: str) -> tuple[str, str]:
    """English and Chinese names of ``region`` as the geocoder spells them.

    Examples
    --------
    >>> region_labels("KH")
    ('Cambodia', '柬埔寨')
    """
    example = phonenumbers.example_number(region)
    if example is None:
        return (region, region)
    en = geocoder.country_name_for_number(example, "en") or region
    zh = geocoder.country_name_for_number(example, "zh") or en
    return (en, zh)


def _service_kind(digits: str) -> tuple[NumberKind, str | None, str | None] | None:
    """Classify a Chinese service or short number written without country code, or None."""
    known = SERVICE_NUMBERS.get(digits)
    if known is not None:
        return known
    n = len(digits)
    if digits.startswith("95") and 5 <= n <= 8:
        return (NumberKind.BANK_SERVICE_95, "95xxx service number", "95短号码服务")
    if digits.startswith("106") and 8 <= n <= 21:
        return (NumberKind.SMS_PORT_106, "SMS service port", "106短信端口")
    if digits.startswith("100") and 5 <= n <= 8:
        return (NumberKind.CARRIER_SERVICE, "Carrier service number", "运营商服务号码")
    if digits.startswith("12") and n == 5:
        return (NumberKind.GOVERNMENT_SERVICE, "Public service number", "公共服务号码")
    if digits.startswith("96") and n == 5:
        return (NumberKind.SHORT_CODE, "96xxx service number", "96短号码")
    return None


def _impersonation_target(digits: str, had_plus: bool) -> str | None:
    """Return the service number a prefixed or extended form imitates, or None."""
    if had_plus and len(digits) <= 6 and _service_kind(digits) is not None:
        return digits
    stripped = digits.lstrip("0")
    if 1 <= len(digits) - len(stripped) <= 2 and stripped in SERVICE_NUMBERS:
        return stripped
    for target in _EXTENSION_TARGETS:
        if digits.startswith(target) and 0 < len(digits) - len(target) <= 6:
            return target
    return None


class NumberIntel:
    """Analyse number strings; cached, never raises on bad input.

    Parameters
    ----------
    default_region : str
        Region assumed for national forms (no ``+``/``00``).
    high_risk_countries : iterable of str, optional
        ISO alpha-2 regions flagged as high-risk origins; defaults to
        :data:`DEFAULT_HIGH_RISK_COUNTRIES`.
    cache_size : int
        Maximum number of distinct raw strings kept; the least recently used half goes first.

    Examples
    --------
    >>> intel = NumberIntel()
    >>> intel.normalise("00852 2345 6789")
    '+85223456789'
    >>> intel.analyse("96110").kind.value
    'anti_fraud'
    >>> intel.analyse("+110").impersonates
    '110'
    >>> intel.analyse("not a number").invalid_reason
    'no digits'
    """

    def __init__(
        self,
        *,
        default_region: str = "CN",
        high_risk_countries: Iterable[str] | None = None,
        cache_size: int = 1_000_000,
    ) -> None:
        self.default_region = default_region.upper()
        self.high_risk_countries: frozenset[str] = (
            DEFAULT_HIGH_RISK_COUNTRIES
            if high_risk_countries is None
            else frozenset(c.upper() for c in high_risk_countries)
        )
        self.cache_size = max(2, cache_size)
        self._generation_size = self.cache_size // 2
        self._cache: dict[str, NumberInfo] = {}
        self._old: dict[str, NumberInfo] = {}
        self.cached: Callable[[str], NumberInfo | None] = self._cache.get
        """The cached :class:`NumberInfo` of a string, or None (then call :meth:`analyse`).

        One dict read, no method call: the hot path of ``Screener.decide`` uses it.
        """
        self._mobile_templates: dict[str, NumberInfo] = {}
        self._mobile_where: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}
        self._region_names: dict[str, tuple[str, str]] = {}
        # Flip to False to compare the per-prefix fast path against the full parse.
        self._fast_mobile = True
        self.derived: dict[str, Any] = {}
        """Tables other modules derive from this analyser's results, keyed by a name of their
        own (e.g. the batch evaluator's frame of mobile templates); cleared with the cache."""

    def __len__(self) -> int:
        """Number of cached raw strings (at most ``cache_size``)."""
        return len(self._cache) + len(self._old)

    def clear_cache(self) -> None:
        """Forget every cached result (e.g. after changing the high-risk set)."""
        self._cache.clear()
        self._old.clear()
        self._mobile_templates.clear()
        self._mobile_where.clear()
        self.derived.clear()

    def normalise(self, raw: str) -> str | None:
        """Return the E.164 form of ``raw``, or None when it cannot be parsed.

        Examples
        --------
        >>> NumberIntel().normalise("138-0013-8000")
        '+8613800138000'
        """
        return self.analyse(raw).e164

    def analyse(self, raw: str) -> NumberInfo:
        """Return the :class:`NumberInfo` of ``raw`` (one dict look-up when seen before).

        Examples
        --------
        >>> info = NumberIntel().analyse("13800138000")
        >>> (info.kind.value, info.carrier, info.province)
        ('mobile', 'China Mobile', 'Beijing')
        """
        cache = self._cache
        info = cache.get(raw)
        if info is not None:
            return info
        # Two generations bound the cache without a dict's costly delete-from-the-front: when
        # the young one is full it becomes the old one, and old hits are promoted.
        info = self._old.get(raw)
        if info is None:
            info = self._analyse(raw)
        if len(cache) >= self._generation_size:
            # Copy and clear rather than replace, so that ``cached`` (bound to this dict)
            # stays valid; a copy per half-cache of inserts is cheap.
            self._old = cache.copy()
            cache.clear()
        cache[raw] = info
        return info

    def analyse_many(self, raws: Iterable[str]) -> list[NumberInfo]:
        """:meth:`analyse` each of ``raws``, in order (the bulk form, for frames).

        Examples
        --------
        >>> [i.kind.value for i in NumberIntel().analyse_many(["110", "13800138000"])]
        ['police', 'mobile']
        """
        analyse = self.analyse
        return [analyse(raw) for raw in raws]

    def analyse_uncached(self, raw: str) -> NumberInfo:
        """Analyse ``raw`` from scratch with a full ``phonenumbers`` parse, no caches.

        This is the reference behaviour (and the naive baseline of ``bench/screening.py``).

        Examples
        --------
        >>> NumberIntel().analyse_uncached("+8613800138000").region
        'CN'
        """
        if not isinstance(raw, str):
            return _unknown(str(raw), "not a string")
        return self._analyse_full(raw)

    def mobile_template(self, prefix: str) -> NumberInfo | None:
        """The shared fields of every 11-digit mainland mobile whose number starts with ``prefix``.

        ``prefix`` is the first :data:`MOBILE_TEMPLATE_DIGITS` digits of the 11-digit number
        (``1[3-9]ddd``). In the CN metadata, origin, labels, line type, validity, invalid reason
        and high-risk flag depend only on those digits, so :meth:`analyse` of ``n11``,
        ``+86`` + ``n11`` or ``0086`` + ``n11`` equals this template in those fields, with
        ``e164 = "+86" + n11``, ``national = n11``, ``region = "CN"``, no service number, no
        impersonation and ``explicit_country_code`` True for the two prefixed spellings.
        Carrier and location are not part of the template. Returns None for any other prefix
        or when the per-prefix fast path is switched off (callers must then use
        :meth:`analyse`).

        Examples
        --------
        >>> t = NumberIntel().mobile_template("13800")
        >>> (t.valid, t.kind.value, t.origin.value)
        (True, 'mobile', 'mainland')
        >>> NumberIntel().mobile_template("14800").valid
        False
        >>> NumberIntel().mobile_template("12345") is None
        True
        """
        if not (
            self._fast_mobile
            and len(prefix) == MOBILE_TEMPLATE_DIGITS
            and prefix.isascii()
            and prefix.isdigit()
            and prefix[0] == "1"
            and prefix[1] in "3456789"
        ):
            return None
        template = self._mobile_templates.get(prefix)
        if template is None:
            n11 = prefix + "0" * (11 - MOBILE_TEMPLATE_DIGITS)
            # Built exactly as _fast_cn_mobile builds it on a miss, so both share the memo.
            template = self._remember_template(prefix, n11, self._analyse_full(n11))
        return template

    # -- internals -------------------------------------------------------------------------

    def _remember_template(self, prefix: str, n11: str, template: NumberInfo) -> NumberInfo:
        """Memoise a mobile prefix's full analysis and, if valid, where its 7-digit block is."""
        self._mobile_templates[prefix] = template
        if template.valid:
            self._mobile_where[n11[:7]] = (
                template.carrier,
                template.province,
                template.city,
                template.location_zh,
            )
        return template

    def _analyse(self, raw: str) -> NumberInfo:
        if not isinstance(raw, str):
            return _unknown(str(raw), "not a string")
        if self._fast_mobile:
            fast = self._fast_cn_mobile(raw)
            if fast is not None:
                return fast
        return self._analyse_full(raw)

    def _fast_cn_mobile(self, raw: str) -> NumberInfo | None:
        """Answer 11-digit Chinese mobiles from per-prefix memos instead of a full parse.

        Validity and line type depend only on the first 5 digits in the CN metadata; carrier
        and location only on the first 7. ``tests/unit/core/test_numbers.py`` checks this
        fast path against :meth:`analyse_uncached` on random numbers.
        """
        n = len(raw)
        explicit = False
        if n == 11:
            n11 = raw
        elif n == 14 and raw.startswith("+86"):
            n11 = raw[3:]
            explicit = True
        elif n == 15 and raw.startswith("0086"):
            n11 = raw[4:]
            explicit = True
        else:
            return None
        if not (n11[0] == "1" and n11[1] in "3456789" and n11.isdigit() and n11.isascii()):
            return None
        key5 = n11[:5]
        template = self._mobile_templates.get(key5)
        if template is None:
            return self._remember_template(key5, n11, self._analyse_full(raw))
        if not template.valid:
            return _mobile_info(template, raw, n11, explicit, _NOWHERE)
        key7 = n11[:7]
        where = self._mobile_where.get(key7)
        if where is None:
            where = self._mobile_location(n11)
            self._mobile_where[key7] = where
        return _mobile_info(template, raw, n11, explicit, where)

    @staticmethod
    def _mobile_location(
        n11: str,
    ) -> tuple[str | None, str | None, str | None, str | None]:
        """Carrier and location of a valid +86 mobile straight from libphonenumber's prefix
        tables (what ``carrier``/``geocoder`` do, minus re-formatting the number each time)."""
        full = "86" + n11
        carrier_en = _longest_prefix(CARRIER_DATA, full, 6, "en")
        where = _longest_prefix(GEOCODE_DATA, full, 9, "en")
        if not where or where == "China":
            return carrier_en, None, None, None
        parts = [p.strip() for p in where.split(",")]
        if len(parts) >= 2:
            city, province = parts[0], parts[-1]
        else:
            city = province = parts[0]
        return carrier_en, province, city, _longest_prefix(GEOCODE_DATA, full, 9, "zh")

    def _analyse_full(self, raw: str) -> NumberInfo:
        s = raw.strip().translate(_SEPARATORS)
        if not s:
            return _unknown(raw, "empty")
        had_plus = s.startswith("+")
        body = s[1:] if had_plus else s
        if not any(ch.isdigit() for ch in body):
            return _unknown(raw, "no digits")
        if not (body.isdigit() and body.isascii()):
            return _unknown(raw, "contains characters other than digits")
        if len(body) > 20:
            return _unknown(raw, "impossible length: too long")

        explicit = had_plus or (body.startswith("00") and not body.startswith("000"))
        if explicit:
            intl = body if had_plus else body[2:]
            national = intl[2:]
            # "+86 10 6xxxxxxx" is Beijing (area code 10), not a 106 SMS port.
            beijing = len(national) == 10 and national.startswith("10")
            if intl.startswith("86") and not beijing:
                service = _service_kind(national)
                if service is not None:
                    return self._service_info(raw, national, service, explicit=True)
        else:
            service = _service_kind(body)
            if service is not None:
                return self._service_info(raw, body, service, explicit=False)

        target = _impersonation_target(body, had_plus)
        if target is not None and not (explicit and body.lstrip("0").startswith("86")):
            kind = SERVICE_NUMBERS.get(target, (NumberKind.UNKNOWN, target, target))
            return _unknown(
                raw,
                f"imitates service number {target} ({kind[1]}) with a prefix or extra digits",
                impersonates=target,
            )
        text = ("+" + body) if had_plus else ("+" + body[2:] if explicit else body)
        try:
            num = phonenumbers.parse(text, self.default_region)
        except phonenumbers.NumberParseException as exc:
            return _unknown(raw, _PARSE_ERROR.get(exc.error_type, "unparseable number"))
        return self._from_parsed(raw, num, explicit)

    def _service_info(
        self,
        raw: str,
        digits: str,
        service: tuple[NumberKind, str | None, str | None],
        *,
        explicit: bool,
    ) -> NumberInfo:
        kind, name, _name_zh = service
        return NumberInfo(
            raw=raw,
            e164="+86" + digits,
            national=digits,
            country_code=86,
            region="CN",
            origin=Origin.MAINLAND,
            origin_label="Mainland China",
            origin_label_zh="中国大陆",
            kind=kind,
            valid=True,
            invalid_reason=None,
            carrier=None,
            province=None,
            city=None,
            high_risk_origin="CN" in self.high_risk_countries,
            is_service_number=True,
            location_zh=None,
            explicit_country_code=explicit,
            impersonates=None,
            service_name=name,
        )

    def _region_name(self, region: str) -> tuple[str, str]:
        cached = self._region_names.get(region)
        if cached is not None:
            return cached
        names = region_labels(region)
        self._region_names[region] = names
        return names

    def _from_parsed(self, raw: str, num: phonenumbers.PhoneNumber, explicit: bool) -> NumberInfo:
        cc = num.country_code or 0
        nsn = phonenumbers.national_significant_number(num)
        e164 = f"+{cc}{nsn}"
        region = phonenumbers.region_code_for_number(num)
        # A number is valid exactly when its region's metadata gives it a type; asking for the
        # type once avoids matching every pattern twice (is_valid_number, then number_type).
        pn_type = phonenumbers.number_type(num) if region is not None else PhoneNumberType.UNKNOWN
        valid = pn_type != PhoneNumberType.UNKNOWN
        if region is None or region == "ZZ":
            main = phonenumbers.region_code_for_country_code(cc)
            region = None if main == "ZZ" else main
        invalid_reason: str | None = None
        if not valid:
            possible = phonenumbers.is_possible_number_with_reason(num)
            invalid_reason = _POSSIBLE_REASON.get(possible, "unallocated number range")
            if region is None and possible != ValidationResult.INVALID_COUNTRY_CODE:
                invalid_reason = "unknown country code"
        if region is None:
            origin, label, label_zh = Origin.UNKNOWN, f"+{cc}", f"+{cc}"
        elif region in _ORIGIN_BY_REGION:
            origin, label, label_zh = _ORIGIN_BY_REGION[region]
        else:
            origin = Origin.FOREIGN
            label, label_zh = self._region_name(region)

        kind = NumberKind.UNKNOWN
        if valid:
            kind = _KIND_BY_PN_TYPE.get(pn_type, NumberKind.UNKNOWN)
        if cc == 86 and len(nsn) == 10 and nsn[:3] in ("400", "800"):
            kind = NumberKind.TOLL_FREE_400 if nsn[0] == "4" else NumberKind.TOLL_FREE_800

        carrier_en: str | None = None
        province: str | None = None
        city: str | None = None
        location_zh: str | None = None
        if valid and kind in (NumberKind.MOBILE, NumberKind.FIXED_LINE_OR_MOBILE):
            carrier_en = carrier.name_for_valid_number(num, "en") or None
        if valid and cc == 86 and kind in (NumberKind.MOBILE, NumberKind.FIXED_LINE):
            province, city, location_zh = _cn_location(num)
        return NumberInfo(
            raw=raw,
            e164=e164,
            national=nsn,
            country_code=cc,
            region=region,
            origin=origin,
            origin_label=label,
            origin_label_zh=label_zh,
            kind=kind,
            valid=valid,
            invalid_reason=invalid_reason,
            carrier=carrier_en,
            province=province,
            city=city,
            high_risk_origin=region is not None and region in self.high_risk_countries,
            is_service_number=False,
            location_zh=location_zh,
            explicit_country_code=explicit,
            impersonates=None,
            service_name=None,
        )
