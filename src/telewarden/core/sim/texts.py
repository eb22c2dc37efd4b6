"""SMS texts: legitimate notices and person-to-person messages, and scam lures.

Scam lures follow domain.md section (e): official-style signatures (sometimes half-width
brackets or a brand that does not match the port), urgency, look-alike domains and APK links
(NV-05 ETC/medical insurance/points, HI-03 loans, HI-04 parcel compensation). Legitimate
notices deliberately share surface features with them (brand signatures, links, numbers), so
that content alone does not make fraud trivially separable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "BANK_PORTS",
    "COURIER_PORTS",
    "P2P_TEXTS",
    "SCAM_APK_LINKS",
    "SCAM_DOMAINS",
    "SCAM_LURES",
    "VERIFICATION_PORTS",
    "bank_notices",
    "courier_notices",
    "scam_texts",
    "verification_codes",
]

P2P_TEXTS: tuple[str, ...] = (
    "到了吗？",
    "晚上回家吃饭吗",
    "好的，收到",
    "明天几点开会？",
    "我在路上了，马上到",
    "妈，周末回来看你",
    "帮我带瓶水",
    "电话没接到，什么事？",
    "合同我发你邮箱了",
    "生日快乐！",
    "今天加班，晚点回",
    "车停在B2了",
)
"""Short person-to-person texts (most Chinese chat moved to apps; SMS p2p is sparse)."""

# (port, brand signature) pairs; ports are 106 numbers registered to the brand (assumption).
BANK_PORTS: tuple[tuple[str, str], ...] = (
    ("1069095588", "【工商银行】"),
    ("1069095533", "【建设银行】"),
    ("1069095599", "【农业银行】"),
    ("1069095566", "【中国银行】"),
)
COURIER_PORTS: tuple[tuple[str, str], ...] = (
    ("106900095338", "【顺丰速运】"),
    ("106900095311", "【中通快递】"),
)
VERIFICATION_PORTS: tuple[tuple[str, str], ...] = (
    ("10690001001", "【美团】"),
    ("10690001002", "【淘宝】"),
    ("10690001003", "【微信】"),
    ("10690001004", "【12306】"),
)

SCAM_DOMAINS: tuple[str, ...] = (
    "etc-renz.com",
    "etc-rz.cc",
    "ybk-gov.com",
    "yibao-cn.top",
    "sf-lipei.cn",
    "l0086-jf.com",
    "zw-icbc.com.cn",
    "dk-kuaifang.xyz",
)
"""Look-alike domains (domain.md e.1: brand inside another domain, l vs 1, gov on .com)."""

SCAM_APK_LINKS: tuple[str, ...] = (
    "http://app-gjsb.cn/gjsbb.apk",
    "http://dl.yibao-cn.top/ybt.apk",
    "http://t.cn/A6xYz9kQ",
)
"""Fake-app download links and a shortener (domain.md e.1-e.2)."""

# (head, tail) around a link; the head carries the (often mismatched) signature.
SCAM_LURES: tuple[tuple[str, str], ...] = (
    ("【ETC服务】您的ETC已停用，请于今日内登录 ", " 重新认证，逾期作废。"),
    ("[高速ETC]您的ETC卡认证过期，将影响通行，请立即进入 ", " 办理。"),
    ("【医保局】您的医保卡异常已锁定，请48小时内点击 ", " 解除，逾期将注销。"),
    ("【国家医保】医保个人账户可领取补贴，点击 ", " 领取。"),
    ("【顺丰速运】您的快件丢失，可获三倍理赔，请点击 ", " 填写银行卡信息。"),
    ("【中国移动】您的积分即将清零，可兑换现金红包，进入 ", " 立即兑换。"),
    ("【贷款中心】无抵押低息贷款，最快10分钟到账，下载 ", " 立即申请。"),
    ("【社保局】您有一笔补贴待领取，请安装官方APP ", " 认证后发放。"),
)
"""Lures with urgency (domain.md e.3) and requests for card data or app installs (e.4)."""


def _pick(rng: np.random.Generator, n: int, k: int) -> pl.Series:
    return pl.Series(rng.integers(0, k, n), dtype=pl.Int64)


def _digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    return pl.Series(rng.integers(0, 10**width, n), dtype=pl.Int64).cast(pl.String).str.zfill(width)


def bank_notices(rng: np.random.Generator, bank: npt.NDArray[Any]) -> pl.Series:
    """Balance notices for customers of ``bank`` (index into ``BANK_PORTS``).

    Examples
    --------
    >>> bank_notices(np.random.default_rng(0), np.array([0]))[0].startswith("【工商银行】")
    True
    """
    n = bank.shape[0]
    sig = pl.Series([s for _, s in BANK_PORTS]).gather(pl.Series(bank, dtype=pl.Int64))
    amount = pl.Series(np.round(rng.lognormal(5.0, 1.3, n), 2)).cast(pl.String)
    balance = pl.Series(np.round(rng.lognormal(9.0, 1.5, n), 2)).cast(pl.String)
    return pl.select(
        pl.concat_str(
            [
                sig,
                pl.lit("您尾号"),
                _digits(rng, n, 4),
                pl.lit("的储蓄卡支出人民币"),
                amount,
                pl.lit("元，余额"),
                balance,
                pl.lit("元。如非本人操作请致电本行客服。"),
            ]
        )
    ).to_series()


def courier_notices(rng: np.random.Generator, courier: npt.NDArray[Any]) -> pl.Series:
    """Parcel pickup notices; some carry the courier's real link (links alone are not fraud)."""
    n = courier.shape[0]
    sig = pl.Series([s for _, s in COURIER_PORTS]).gather(pl.Series(courier, dtype=pl.Int64))
    link = pl.Series(np.where(rng.random(n) < 0.3, "，详情 https://www.sf-express.com", ""))
    return pl.select(
        pl.concat_str(
            [
                sig,
                pl.lit("您的快件已到达驿站，取件码"),
                _digits(rng, n, 6),
                pl.lit("，请及时取件"),
                link,
                pl.lit("。"),
            ]
        )
    ).to_series()


def verification_codes(rng: np.random.Generator, port: npt.NDArray[Any]) -> pl.Series:
    """One-time codes from app ports (legit, and a reason OTP words alone are not fraud)."""
    n = port.shape[0]
    sig = pl.Series([s for _, s in VERIFICATION_PORTS]).gather(pl.Series(port, dtype=pl.Int64))
    return pl.select(
        pl.concat_str(
            [sig, pl.lit("验证码"), _digits(rng, n, 6), pl.lit("，5分钟内有效，请勿泄露给他人。")]
        )
    ).to_series()


def scam_texts(rng: np.random.Generator, n: int, apk_share: float) -> pl.Series:
    """Scam lures with a look-alike link, or an APK link with probability ``apk_share``.

    Examples
    --------
    >>> t = scam_texts(np.random.default_rng(0), 3, 0.0)
    >>> all(any(d in x for d in SCAM_DOMAINS) for x in t.to_list())
    True
    """
    lure = _pick(rng, n, len(SCAM_LURES))
    head = pl.Series([h for h, _ in SCAM_LURES]).gather(lure)
    tail = pl.Series([t for _, t in SCAM_LURES]).gather(lure)
    domain = pl.Series(SCAM_DOMAINS).gather(_pick(rng, n, len(SCAM_DOMAINS)))
    path = pl.Series(["/", "/rz", "/m/", "/?id="]).gather(_pick(rng, n, 4))
    apk = pl.Series(SCAM_APK_LINKS).gather(_pick(rng, n, len(SCAM_APK_LINKS)))
    use_apk = pl.Series(rng.random(n) < apk_share)
    link = pl.select(
        pl.when(use_apk).then(apk).otherwise(pl.concat_str([pl.lit("http://"), domain, path]))
    ).to_series()
    return pl.select(pl.concat_str([head, link, tail])).to_series()
