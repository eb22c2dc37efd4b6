"""The SMS model's n-gram scoring and the notice shapes as they were, the reference for the fast ones.

A frozen copy of the code before the speed work of issue #18 part 3 (the n-gram hashes and
counts of ``core/sms/classifier.py``, its link, code-run and variant patterns, and
``core/sms/notices.py``'s patterns and ``notice_kind``): the tests require the package's
scores to be bit-identical to :func:`decision_many` here, and its notice shapes identical to
:func:`notice_kind` here, on the shipped check sets and on random texts. Slow on purpose;
nothing in the package imports this. Constants that did not change are imported.
"""

# ruff: noqa: E501

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import numpy.typing as npt
from sklearn.utils import murmurhash3_32

from telewarden.core.sms.classifier import (
    _CONTACT_VARIANTS,
    _LATIN_LOOKALIKES,
    _LINK_PLACEHOLDER_RE,
    _LOOKALIKE_RE,
    _STAR_RUN_RE,
    _WORD_RE,
    FeatureConfig,
    SmsModel,
    has_cjk,
)
from telewarden.core.sms.indicators import SCAM_KINDS, Indicator, IndicatorKind


@functools.lru_cache(maxsize=1 << 18)
def _token_hash(token: str) -> int:
    return int(murmurhash3_32(token, seed=0, positive=True))


_HASH_MULT = np.uint64(0x100000001B3)
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)


def char_ngram_hashes(
    prepared: Sequence[str], ngrams: tuple[int, int], n_features: int, *, positions: bool = True
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Hashed character n-grams of a batch, computed with vectorised NumPy (no Python loop).

    The texts are joined with a NUL separator into one code-point array; the hash of the
    n-gram starting at position ``i`` is built from that of the (n-1)-gram by a multiply-xor
    step in wrapping 64-bit arithmetic, and windows that cross a separator are dropped.

    Returns
    -------
    tuple of arrays
        Row (text index), feature index, start position in the joined string and n-gram
        length of every n-gram occurrence; the last two are empty with ``positions=False``
        (the scoring path, which needs no names).
    """
    texts = [t.replace("\x00", " ") for t in prepared]
    joined = "\x00".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lens = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lens)[: len(cps)]
    sep = cps == 0
    lo, hi = ngrams
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    starts: list[npt.NDArray[np.int64]] = []
    sizes: list[npt.NDArray[np.int64]] = []
    h = np.zeros(len(cps), dtype=np.uint64)
    bad = np.zeros(len(cps), dtype=bool)
    where = np.arange(len(cps), dtype=np.int64)
    for n in range(1, hi + 1):
        m = len(cps) - n + 1
        if m <= 0:
            break
        # h_n[i] = (h_{n-1}[i] * MULT) xor (cp[i+n-1] * MIX); wraps modulo 2**64 by design.
        h = (h[:m] * _HASH_MULT) ^ (cps[n - 1 :] * _HASH_MIX + np.uint64(n))
        bad = bad[:m] | sep[n - 1 :]
        if n < lo:
            continue
        keep = ~bad
        kept = h[keep]
        cols.append(_bucket(kept ^ (kept >> np.uint64(31)), n_features))
        rows.append(row_of[:m][keep])
        if positions:
            starts.append(where[:m][keep])
            sizes.append(np.full(len(kept), n, dtype=np.int64))
    empty = np.zeros(0, dtype=np.int64)
    if not rows:
        return empty, empty, empty, empty
    if not positions:
        return np.concatenate(rows), np.concatenate(cols), empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(starts), np.concatenate(sizes)


def _bucket(mixed: npt.NDArray[np.uint64], n_features: int) -> npt.NDArray[np.int64]:
    """``mixed mod n_features`` as int64; a bit mask when the width is a power of two
    (the same value, several times cheaper than a 64-bit division)."""
    if n_features & (n_features - 1) == 0:
        return (mixed & np.uint64(n_features - 1)).astype(np.int64)
    return (mixed % np.uint64(n_features)).astype(np.int64)


def word_ngram_hashes(
    prepared: Sequence[str], ngrams: tuple[int, int], n_features: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Hashed word n-grams of Latin tokens, in the manner of :func:`char_ngram_hashes`.

    Tokens are found by one regex per text and hashed once each (cached: words repeat);
    n-grams combine token hashes with the same multiply-xor step, in NumPy, and never
    cross from one text into the next.

    Returns
    -------
    tuple of arrays
        Row, feature index, index of the first token in the batch's token list, and
        n-gram length of every n-gram occurrence.
    """
    tokens_per_text = [_WORD_RE.findall(t) for t in prepared]
    lens = np.fromiter(map(len, tokens_per_text), dtype=np.int64, count=len(prepared))
    total = int(lens.sum())
    tokens = [tok for toks in tokens_per_text for tok in toks]
    h1 = np.fromiter(map(_token_hash, tokens), dtype=np.uint64, count=total)
    row_of = np.repeat(np.arange(len(prepared), dtype=np.int64), lens)
    positions = np.arange(total, dtype=np.int64)
    lo, hi = ngrams
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    starts: list[npt.NDArray[np.int64]] = []
    sizes: list[npt.NDArray[np.int64]] = []
    h = np.zeros(total, dtype=np.uint64)
    for n in range(1, hi + 1):
        m = total - n + 1
        if m <= 0:
            break
        h = (h[:m] * _HASH_MULT) ^ (h1[n - 1 :] * _HASH_MIX + np.uint64(n))
        if n < lo:
            continue
        keep = row_of[:m] == row_of[n - 1 :]
        kept = h[keep]
        cols.append(_bucket(kept ^ (kept >> np.uint64(31)), n_features))
        rows.append(row_of[:m][keep])
        starts.append(positions[:m][keep])
        sizes.append(np.full(int(keep.sum()), n, dtype=np.int64))
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(starts), np.concatenate(sizes)


# Links after normalisation (scheme or www, or a host under a common top-level domain).
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|cc|top|xyz|co|org|uk|info|biz|me|vip|app)"
    r"\b\S*"
)
_URL_TOKEN = " httpurl "

# Sentence punctuation and spaces (after normalisation, full-width marks are ASCII or CJK).
_CJK_PUNCTUATION_RE = re.compile(r"[\s,，。.、；;：:！!？?~～…]+")
# A run of 4-6 folded digits (see ``FeatureConfig.latin_code_fold``).
_CODE_RUN_RE = re.compile(r"(?<!0)0{4,6}(?!0)")


# Three or more single letters split by one dot, dash, star or underscore: "c.l.i.c.k".
_SPLIT_LETTERS_RE = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-*_][a-z]){2,}(?![a-z0-9])")
_SPLIT_MARKS_RE = re.compile(r"[.\-*_]")
_ZERO_IN_WORD_RE = re.compile(r"(?<=[a-z])0(?=[a-z])")


def _variant_fold(text: str, cjk: bool) -> str:
    """One model text with the hiding variants read as what they hide (``variant_fold``)."""
    if "[" in text or "【" in text or "(" in text or "（" in text or "<" in text or "《" in text:
        text = _LINK_PLACEHOLDER_RE.sub(_URL_TOKEN, text)
    if "**" in text or "＊＊" in text:
        text = _STAR_RUN_RE.sub(lambda m: "0" * len(m.group(0)), text)
    if not text.isascii() and _LOOKALIKE_RE.search(text):
        text = text.translate(_LATIN_LOOKALIKES)
    if cjk:
        for pattern, name in _CONTACT_VARIANTS:
            text = pattern.sub(name, text)
    else:
        text = _SPLIT_LETTERS_RE.sub(lambda m: _SPLIT_MARKS_RE.sub("", m.group(0)), text)
        if "0" in text:
            text = _ZERO_IN_WORD_RE.sub("o", text)
    return text


def _model_texts(prepared: Sequence[str], cjk: Sequence[bool], config: FeatureConfig) -> list[str]:
    texts = list(prepared)
    if config.variant_fold:
        texts = [_variant_fold(t, c) for t, c in zip(texts, cjk, strict=True)]
    if config.url_token:
        # Every link form contains a dot (normalisation has undone `hxxp`, `[.]` and the like).
        # (With ``variant_fold``, also a masked link such as ``http://***``, which has none.)
        texts = [
            _URL_RE.sub(_URL_TOKEN, t) if "." in t or (config.variant_fold and "://" in t) else t
            for t in texts
        ]
    if not config.cjk_punctuation:
        texts = [
            _CJK_PUNCTUATION_RE.sub("", t) if c else t for t, c in zip(texts, cjk, strict=True)
        ]
    if config.latin_code_fold:
        texts = [
            _CODE_RUN_RE.sub("0", t) if not c and "0000" in t else t
            for t, c in zip(texts, cjk, strict=True)
        ]
    return texts


def ngram_counts(
    prepared: Sequence[str], config: FeatureConfig, *, shared_copies: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Hashed n-gram counts of prepared texts as (row, column, count) triples.

    Columns: char n-grams, then word n-grams (when configured); with ``split_by_script``
    the same again for texts with Chinese characters, then (``shared_block``) a copy for all
    texts, then the two bias features (Chinese, Latin). Each (row, column) pair comes once,
    grouped by block and not sorted across blocks: the n-grams are counted with one sort of
    ``row << bits | column`` keys (cheaper than SciPy's COO-to-CSR conversion with its
    per-row sort), and the script and shared blocks are copies of those counts.
    """
    n = len(prepared)
    cjk = np.fromiter(map(has_cjk, prepared), dtype=bool, count=n)
    prepared = _model_texts(prepared, cjk.tolist(), config)
    n_char = 1 << config.char_bits
    rows, cols, _, _ = char_ngram_hashes(prepared, config.char_ngrams, n_char, positions=False)
    if config.word_ngrams:
        w_rows, w_cols, _, _ = word_ngram_hashes(
            prepared, config.word_ngrams, 1 << config.word_bits
        )
        rows = np.concatenate([rows, w_rows])
        cols = np.concatenate([cols, w_cols + n_char])
    shift = np.int64(max(config.base_width - 1, 1).bit_length())
    keys = (rows << shift) | cols
    keys.sort()
    first = np.flatnonzero(np.diff(keys, prepend=np.int64(-1)))
    counts = np.diff(np.append(first, len(keys))).astype(np.float64)
    unique = keys[first]
    rows, cols = unique >> shift, unique & ((np.int64(1) << shift) - 1)
    if not config.split_by_script:
        return rows, cols, counts
    base = config.base_width
    blocks = 3 if config.shared_block else 2
    # Texts with Chinese characters use the second block; every text gets its bias.
    out_rows = [rows, np.arange(n, dtype=np.int64)]
    out_cols = [
        cols + np.where(cjk, base, 0)[rows],
        np.where(cjk, blocks * base, blocks * base + 1),
    ]
    out_counts = [counts, np.ones(n)]
    if config.shared_block and shared_copies:
        # ...and every text also the third, shared block, so that what the two scripts have
        # in common (links, numbers, Latin brand names) is learnt from both sets.
        out_rows.append(rows)
        out_cols.append(cols + 2 * base)
        out_counts.append(counts)
    return np.concatenate(out_rows), np.concatenate(out_cols), np.concatenate(out_counts)


def decision_many(model: SmsModel, prepared: Sequence[str]) -> npt.NDArray[np.float64]:
    """The previous ``SmsModel.decision_many``: ~16,000-character slices, each scored alone."""
    if sum(map(len, prepared)) > 16_000 and len(prepared) > 1:
        parts: list[npt.NDArray[np.float64]] = []
        start, size = 0, 0
        for i, text in enumerate(prepared):
            size += len(text)
            if size > 16_000 and i > start:
                parts.append(_decision_block(model, prepared[start:i]))
                start, size = i, len(text)
        parts.append(_decision_block(model, prepared[start:]))
        return np.concatenate(parts)
    return _decision_block(model, prepared)


def _decision_block(model: SmsModel, prepared: Sequence[str]) -> npt.NDArray[np.float64]:
    n = len(prepared)
    rows, cols, counts = ngram_counts(prepared, model.config, shared_copies=False)
    tf = np.log(counts) + 1.0
    weight, square = _scoring_weights(model)
    norms = np.sqrt(np.bincount(rows, weights=tf * tf * square[cols], minlength=n))
    norms[norms == 0] = 1.0
    dots = np.bincount(rows, weights=tf * weight[cols], minlength=n)
    return np.asarray(dots / norms + model.intercept_, dtype=np.float64)


# The previous code built these once per model too (by id: a model is not hashable).
_WEIGHTS: dict[int, tuple[SmsModel, npt.NDArray[np.float32], npt.NDArray[np.float32]]] = {}


def _scoring_weights(model: SmsModel) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    cached = _WEIGHTS.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1], cached[2]
    weight = (model.idf_ * model.coef_).astype(np.float32)
    square = (model.idf_ * model.idf_).astype(np.float32)
    cfg = model.config
    if cfg.split_by_script and cfg.shared_block:
        base = cfg.base_width
        for block in (0, 1):
            script = slice(block * base, (block + 1) * base)
            weight[script] += weight[2 * base : 3 * base]
            square[script] += square[2 * base : 3 * base]
    _WEIGHTS[id(model)] = (model, weight, square)
    return weight, square


_AMOUNT = (
    r"(?:(?:[$£€¥]|rs\.?|inr|sgd|gbp|usd|aud|hkd|人民币|rmb)\s?[\d,]+(?:\.\d{1,2})?"
    r"|[\d,]+(?:\.\d{1,2})?\s?(?:元|块|gbp|usd|sgd|aud))"
)
NOTICE_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        # A one-time code and the line that tells the customer never to pass it on.
        (
            "otp",
            r"^(?=.*(?:验证码|校验码|动态码|动态密码|verification code|security code|one-time pass"
            r"|\botp\b|\bcode\b))(?=.*\d{4,8}|.*\d{3}[- ]\d{3})"
            r"(?=.*(?:请勿|切勿|勿向|不要|告知他人|泄露|如非本人|don'?t share|do not share"
            r"|never share|not share|ignore this|didn'?t request|did not request))",
        ),
        # Money moved on an account or card, with the amount (and usually the balance).
        (
            "account",
            rf"^(?=.*{_AMOUNT})(?=.*(?:支出|收入|消费|转入|转出|入账|存入|扣款|账单金额|还款日|余额"
            r"|debited|credited|you spent|received a payment|transaction|balance|payment of|transfer of"
            r"|minimum due|is due|direct debit))",
        ),
        # A parcel that has arrived, been signed for or will be delivered.
        (
            "parcel",
            r"取件码|已签收|快件已|包裹已到|丰巢|驿站|派送中|正在派送|\bwas delivered\b"
            r"|\bwill be delivered\b|\bready to collect\b|\bout for delivery\b|\bready for pickup\b"
            r"|\bhas (?:been )?(?:dispatched|shipped)\b",
        ),
        # Bookings, appointments, trips and bills.
        (
            "booking",
            r"已成功预约|预约成功|您的预约|您已预约|已购|次列车|检票口|候车|值机|航班.{0,10}(?:起飞|登机)"
            r"|账单已生成|流量已使用|剩余.{0,4}GB"
            r"|\bappointment\b|\breservation\b|\bbooking\b|\bcheck in\b|\bconfirmed for\b"
            r"|\btable for\b|\bdeparts\b|\bis delayed\b|\bschool will close\b|\bbill of\b",
        ),
    )
)
"""(kind, pattern) of each notice shape, first match wins (``advisory`` is tested apart)."""

_VETO_RE = re.compile(
    # Marketing.
    r"优惠|特价|促销|折扣|[0-9x]折|活动|免费|赠送|抢购|低至|秒杀|红包|积分|兑换|中奖|退订|回T|回复TD"
    r"|\bsale\b|\boffer\b|\bdiscount|% off\b|\bfree\b|\bwin\b|\bwinner\b|\bprize\b|\bpromo"
    r"|欢迎|抽奖|热线|团购|预存|开业|参观|坐诊|招聘|加盟|代理|我是|这里是"
    r"|\bdeal\b|\bvoucher|\bcoupon|\bur\b|\bquiz\b|\bquestion\b"
    # Calls to act on the spot, which a notice never needs.
    r"|点击|链接|网址|登录.{0,4}(?:网站|页面)|[\[【](?:链接|网址|url|link)|立即|马上|尽快|否则|逾期"
    r"|冻结|停用|失效|异常|转账|汇款|安全账户|解冻|下载|\bclick\b|\btap\b|\bverify\b|\bconfirm your\b"
    r"|\bupdate your\b|\bimmediately\b|\burgent\b|\bsuspend|\blocked\b|\bpending\b|\bfraud dep"
    r"|\bfraud team\b|\breply (?:yes|y|1)\b|\bwithin \d+ ?h",
    re.IGNORECASE,
)
# Anti-fraud advisories from police, carriers and banks, and the contacts a scam needs.
_ADVISORY_RE = re.compile(
    r"谨防|警惕.{0,6}诈骗|都是诈骗|凡是.{0,20}诈骗|不会.{0,10}(?:索要|要求)|\bnever ask\b"
    r"|\bbeware of (?:scams?|fraud)",
    re.IGNORECASE,
)
# What an impersonator of the anti-fraud centre says and an advisory does not.
_ADVISORY_VETO_RE = re.compile(
    r"我是|这里是|涉嫌|洗钱|案件|配合|下载|提供|核实|冒用|\bthis is\b|\bwe need you\b",
    re.IGNORECASE,
)
_CONTACT_RE = re.compile(
    r"加.{0,3}(?:微信|qq|客服)|微信号|qq号?[:：]?\s*\w|点击|[\[【](?:链接|网址)|whatsapp|telegram",
    re.IGNORECASE,
)
_PLACEHOLDER_RE = re.compile(r"[\[【][^\]】]{0,6}(?:链接|网址|url|link)", re.IGNORECASE)
# Links a notice may carry: on a brand's own domain only.
_LINK_KINDS = frozenset({IndicatorKind.URL, IndicatorKind.SHORT_LINK})


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return re.split(r"[/?#:]", rest, maxsplit=1)[0].lower().strip(".")


def notice_kind(
    text: str, indicators: Iterable[Indicator] = (), official: Collection[str] = ()
) -> str | None:
    """The previous ``notice_kind``."""
    indicators = tuple(indicators)
    if (
        not indicators
        and _ADVISORY_RE.search(text)
        and not _CONTACT_RE.search(text)
        and not _ADVISORY_VETO_RE.search(text)
    ):
        # An anti-fraud advisory names the scams it warns of; with no link, number or
        # contact to reach, it asks nothing of the reader.
        return "advisory"
    if _VETO_RE.search(text):
        return None
    for ind in indicators:
        if ind.kind in SCAM_KINDS or ind.kind is IndicatorKind.SHORT_LINK:
            return None
        if ind.kind in _LINK_KINDS:
            host = _host(ind.value)
            if not any(host == d or host.endswith("." + d) for d in official):
                return None
    # A masked link left by a publisher ("[链接]") is not a notice; a sender signature
    # ("【工商银行】") is.
    if ("[" in text or "【" in text) and _PLACEHOLDER_RE.search(text):
        return None
    for kind, pattern in NOTICE_SHAPES:
        if pattern.search(text):
            return kind
    return None
