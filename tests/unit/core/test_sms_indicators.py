"""Indicators: checksum-validated wallets, card numbers, links and look-alike domains."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.sms.indicators import (
    _BECH32_RE,
    _BTC_BASE58_RE,
    _CRYPTO_RUN_RE,
    _ETH_RE,
    _IDN_GUARD_RE,
    _IDN_RE,
    _TRON_RE,
    _URL_GUARD_RE,
    _URL_PRE_GUARD_RE,
    _URL_RE,
    IndicatorExtractor,
    IndicatorKind,
    _dot_suffixes,
    _under,
    btc_address_type,
    eth_checksum_status,
    luhn_valid,
    tron_address_valid,
)

from . import sms_reference as ref
from .sms_reference import sms_texts

BTC_VALID = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "p2pkh"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "p2sh"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "p2wpkh"),
    ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "p2wsh"),
    # BIP-350 test vectors (Bech32m)
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "p2tr"),
    ("BC1SW50QGDZ25J", "segwit_v16"),
]
ETH_VALID = [
    "0xdAC17F958D2ee523a2206206994597C13D831ec7",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
TRON_VALID = ["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]


def _corruptions(address: str, alphabet: str) -> list[str]:
    """Every address that differs from ``address`` in one character (same alphabet and case)."""
    out = []
    start = 2 if address.lower().startswith(("0x", "bc1")) else 1
    for i in range(start, len(address)):
        for ch in alphabet:
            if ch != address[i]:
                out.append(address[:i] + ch + address[i + 1 :])
    return out


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@pytest.mark.parametrize(("address", "kind"), BTC_VALID, ids=[k for _, k in BTC_VALID])
def test_accepts_real_bitcoin_addresses(address: str, kind: str) -> None:
    assert btc_address_type(address) == kind


@pytest.mark.parametrize(("address", "_kind"), BTC_VALID, ids=[k for _, k in BTC_VALID])
def test_rejects_every_one_character_corruption_of_bitcoin_addresses(
    address: str, _kind: str
) -> None:
    alphabet = BASE58 if address[0] in "13" else BECH32
    if address.isupper():
        alphabet = alphabet.upper()
    bad = [a for a in _corruptions(address, alphabet) if btc_address_type(a) is not None]
    assert bad == []


@pytest.mark.parametrize(
    "address",
    [
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
        "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4",
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
    ],
    ids=["v1-bech32", "v16-bech32", "v2-bech32", "v0-bech32m", "mixed-case", "testnet-hrp"],
)
def test_rejects_segwit_addresses_with_the_wrong_checksum_variant_bip350(address: str) -> None:
    assert btc_address_type(address) is None


@pytest.mark.parametrize("address", ETH_VALID, ids=[a[:8] for a in ETH_VALID])
def test_accepts_eip55_checksummed_addresses(address: str) -> None:
    assert eth_checksum_status(address) == "checksum"


@pytest.mark.parametrize("address", ETH_VALID, ids=[a[:8] for a in ETH_VALID])
def test_rejects_every_case_flip_of_eip55_addresses(address: str) -> None:
    flips = [
        address[:i] + address[i].swapcase() + address[i + 1 :]
        for i in range(2, len(address))
        if address[i].isalpha()
    ]
    assert flips
    assert [a for a in flips if eth_checksum_status(a) == "checksum"] == []


def test_lowercase_eth_address_carries_no_checksum() -> None:
    assert eth_checksum_status(ETH_VALID[0].lower()) == "unverified"


def test_keccak_not_sha3_decides_the_eip55_case() -> None:
    # With NIST SHA3-256 the case pattern differs; the real USDT contract must still validate.
    import hashlib

    sha3 = hashlib.sha3_256(ETH_VALID[0][2:].lower().encode()).hexdigest()
    sha3_cased = "0x" + "".join(
        c.upper() if c.isalpha() and int(n, 16) >= 8 else c.lower()
        for c, n in zip(ETH_VALID[0][2:].lower(), sha3, strict=False)
    )
    assert sha3_cased != ETH_VALID[0]
    assert eth_checksum_status(sha3_cased) is None


@pytest.mark.parametrize("address", TRON_VALID, ids=["usdt-trc20"])
def test_accepts_real_tron_address(address: str) -> None:
    assert tron_address_valid(address)


@pytest.mark.parametrize("address", TRON_VALID, ids=["usdt-trc20"])
def test_rejects_every_one_character_corruption_of_tron_address(address: str) -> None:
    assert [a for a in _corruptions(address, BASE58) if tron_address_valid(a)] == []


def test_bitcoin_address_is_not_a_tron_address() -> None:
    assert not tron_address_valid("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("4111111111111111", True), ("6222021001115555557", None), ("4111111111111112", False)],
    ids=["visa-test", "computed", "corrupted"],
)
def test_luhn(digits: str, ok: bool | None) -> None:
    if ok is None:
        # a corruption of a Luhn-valid number must fail
        body = digits[:-1]
        check = next(d for d in "0123456789" if luhn_valid(body + d))
        assert luhn_valid(body + check)
        assert not luhn_valid(body + str((int(check) + 1) % 10))
    else:
        assert luhn_valid(digits) is ok


def _kinds(text: str, **kw: object) -> set[IndicatorKind]:
    return {i.kind for i in IndicatorExtractor(**kw).extract(text)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("登录 etc-renz.com 认证", IndicatorKind.BRAND_IN_DOMAIN),
        ("点击 hxxp://etc-renz[.]com", IndicatorKind.BRAND_IN_DOMAIN),
        ("登录 etc-renz。com 认证", IndicatorKind.URL),
        ("请登录 www.1cbc.com 验证", IndicatorKind.LOOKALIKE_DOMAIN),
        ("联系 l0086.cn 客服", IndicatorKind.LOOKALIKE_DOMAIN),
        ("访问 zw-icbc.com.cn", IndicatorKind.BRAND_IN_DOMAIN),
        ("访问 xn--pple-43d.com", IndicatorKind.IDN_DOMAIN),
        ("医保局通知 http://yibao-cx.com", IndicatorKind.GOV_OUTSIDE_GOV_CN),
        ("详见 https://t.cn/A6abc", IndicatorKind.SHORT_LINK),
        ("下载 http://app.example.com/x.apk", IndicatorKind.DOWNLOAD_LINK),
        ("打开 http://45.67.8.9/login", IndicatorKind.IP_HOST),
        ("付款到 TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", IndicatorKind.CRYPTO_TRON),
        ("send to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", IndicatorKind.CRYPTO_BTC),
        ("to 0xdAC17F958D2ee523a2206206994597C13D831ec7 now", IndicatorKind.CRYPTO_ETH),
        ("转到卡号4111111111111111户名张三", IndicatorKind.BANK_CARD),
        ("致电 400-820-8820", IndicatorKind.PHONE_NUMBER),
    ],
    ids=[
        "brand-in-domain",
        "hxxp-bracket-dot",
        "ideographic-dot",
        "digit-homoglyph",
        "l0086-trick",
        "brand-prefix",
        "punycode",
        "gov-on-com",
        "shortener",
        "apk",
        "ip-host",
        "tron",
        "bech32",
        "eth",
        "card",
        "400-number",
    ],
)
def test_extracts_indicator(text: str, kind: IndicatorKind) -> None:
    assert kind in _kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "妈，我今晚不回家吃饭了，记得喂猫",
        "登录 www.icbc.com.cn 查询",
        "Ok lar... Joking wif u oni...",
        "访问 www.gov.cn 了解政策",
        "随机串 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb 不是地址",
    ],
    ids=["family-chat", "official-bank", "english-chat", "gov-cn", "bad-checksum"],
)
def test_flags_nothing_risky_in_benign_text(text: str) -> None:
    risky = {i.kind for i in IndicatorExtractor().extract(text) if i.risk >= 0.5}
    assert risky == set()


@pytest.mark.parametrize(
    "text", ["Ok. Me watching tv too.", "Sorry I am late. Co workers kept me.", "Done. Top up now"]
)
def test_sentence_boundaries_are_not_links(text: str) -> None:
    # "Ok. Me" was joined into the host "Ok.Me" (.me is a top-level domain) and reported.
    assert IndicatorKind.URL not in _kinds(text)


@pytest.mark.parametrize(
    "text",
    ["登录 etc-renz . com 认证", "登录 icbc-vip . wang 认证", "访问 www . icbc-vip . com . cn"],
)
def test_spaced_out_host_is_a_link(text: str) -> None:
    assert IndicatorKind.BRAND_IN_DOMAIN in _kinds(text)


def test_shortener_list_is_configurable() -> None:
    assert IndicatorKind.SHORT_LINK not in _kinds("见 https://sho.rt/abc")
    assert IndicatorKind.SHORT_LINK in _kinds("见 https://sho.rt/abc", shorteners={"sho.rt"})


def test_classifies_phone_numbers_with_number_intelligence() -> None:
    from telewarden.core.numbers import NumberIntel

    ex = IndicatorExtractor(numbers=NumberIntel())
    found = [
        i for i in ex.extract("客服热线 +852 2123 4567 请尽快联系") if i.kind == "phone_number"
    ]
    assert found
    assert found[0].value.startswith("+852")
    assert "international" in found[0].detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Your OTP for login is 583920. Do not share it", [], id="otp-code"),
        pytest.param("Your order number 51823 is ready", [], id="order-number"),
        pytest.param("请致电95588咨询", ["+8695588"], id="bank-service-number"),
        pytest.param("call me on 13800138000", ["+8613800138000"], id="mobile"),
        pytest.param("ring +852 2123 4567", ["+85221234567"], id="international"),
    ],
)
def test_short_codes_are_not_phone_numbers_but_service_numbers_are(
    text: str, expected: list[str]
) -> None:
    from telewarden.core.numbers import NumberIntel

    found = IndicatorExtractor(numbers=NumberIntel()).extract(text)
    assert [i.value for i in found if i.kind == "phone_number"] == expected


@pytest.mark.parametrize(
    ("host", "kinds"),
    [
        pytest.param("netbank-commbank.help", {"brand_in_domain"}, id="bank-on-cheap-tld"),
        pytest.param("www.commbank.com.au", set(), id="bank-own-domain"),
        pytest.param("wellsfargo-secure-login.net", {"brand_in_domain"}, id="us-bank"),
        pytest.param("auspost-au.delivery", {"brand_in_domain"}, id="courier"),
        pytest.param("auspost.com.au", set(), id="courier-own-domain"),
        pytest.param("hmrc-refund-gov.co", {"gov_outside_gov_cn"}, id="tax-office"),
        pytest.param("dvla-vehicle-renew.com", {"gov_outside_gov_cn"}, id="licensing-agency"),
        pytest.param("www.nhs.uk", set(), id="health-service-own-domain"),
        pytest.param("my.gov.au", set(), id="portal-own-domain"),
        pytest.param("purchase-online.com", set(), id="chase-inside-a-word-is-no-brand"),
        pytest.param("linktr.ee", set(), id="linktree-is-no-toll-road"),
    ],
)
def test_english_speaking_brands_and_public_bodies(host: str, kinds: set[str]) -> None:
    assert {str(i.kind) for i in IndicatorExtractor().check_host(host)} == kinds


@pytest.mark.parametrize(
    "host", ["netbank-commbank.help", "usps-care.support", "pay-toll.services", "win.bet"]
)
def test_hosts_on_generic_domains_of_recent_smishing_are_links(host: str) -> None:
    assert host in {i.value for i in IndicatorExtractor().extract(f"log on at {host} today")}


# The fast paths (guards, one scan for crypto runs, host suffix sets) against the code as
# it was: same indicators, in the same order, on any text.
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_EXTRACTOR = IndicatorExtractor()
_REFERENCE = ref.ReferenceExtractor()
_FEWER = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(text=st.one_of(sms_texts(), st.text(max_size=40)))
def test_extract_gives_what_the_plain_code_gives(text: str) -> None:
    assert _EXTRACTOR.extract(text) == _REFERENCE.extract(text)
    assert _EXTRACTOR.extract(text, normalised=True) == _REFERENCE.extract(text, normalised=True)


@_FEWER
@given(text=st.from_regex(_URL_RE))
def test_url_guard_passes_every_text_with_a_link(text: str) -> None:
    assert "://" in text or (_URL_PRE_GUARD_RE.search(text) and _URL_GUARD_RE.search(text))


@_FEWER
@given(text=st.from_regex(_IDN_RE))
def test_idn_guard_passes_every_text_with_a_unicode_host(text: str) -> None:
    assert _IDN_GUARD_RE.search(text)


def test_the_case_insensitive_extras_are_all_there_are() -> None:
    # The pre-guard lists the non-ASCII characters re.IGNORECASE matches to ASCII letters.
    everything = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
    found = set(re.findall("[a-z]", everything, re.IGNORECASE))
    assert found == set("\u0130\u0131\u017f\u212a")


@_FEWER
@given(data=st.data())
def test_crypto_runs_hold_every_address_the_patterns_find(data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from([_BECH32_RE, _BTC_BASE58_RE, _ETH_RE, _TRON_RE]))
    text = data.draw(st.from_regex(pattern))
    runs = _CRYPTO_RUN_RE.findall(text)
    for m in pattern.finditer(text):
        assert m.group(0) in runs


@_FEWER
@given(
    host=st.lists(
        st.sampled_from(["", "a", "t", "cn", "t.cn", "bit", "ly", "com", "icbc", "fir", "im"]),
        min_size=1,
        max_size=5,
    ).map(".".join),
    domain=st.sampled_from(["t.cn", "bit.ly", "cn", "", "icbc.com", "fir.im", "a.t.cn"]),
)
def test_dot_suffixes_say_what_under_says(host: str, domain: str) -> None:
    assert (domain in _dot_suffixes(host)) == _under(host, domain)


@_FEWER
@given(
    host=st.lists(
        st.sampled_from(
            ["icbc", "1cbc", "paypa1", "apple", "etc", "ccb", "gov", "cn", "com", "t", "www"]
            + ["12306", "gongan", "mps", "icbc-vip", "xn--pple-43d", "аpple", "fir", "im"]
        ),
        min_size=1,
        max_size=4,
    ).map(".".join),
    path=st.sampled_from(["", "/a.apk", "/download", "/x"]),
)
def test_check_host_gives_what_the_plain_code_gives(host: str, path: str) -> None:
    assert _EXTRACTOR.check_host(host, host + path) == _REFERENCE.check_host(host, host + path)
