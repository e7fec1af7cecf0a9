"""De-identification (PIPL): the one place that masks personal data for readers without the need.

The complainant's name and phone fields are masked by ``mask_name`` and ``mask_phone``; free text
(a title, a description, a note, a reply) by ``mask_text``, which finds what people type into it:
mainland mobile and fixed-line numbers, ID numbers, bank card numbers, e-mail addresses and the
complainant's own name, also as 赵先生 / 赵女士 / 赵师傅. Who needs the whole text is decided by
the caller (``cases.selectors.can_see_identity``); this module only masks.

The patterns are shaped after how numbers are written, not after "any long run of digits", so
that the facts around them stay readable: tracking codes (XN-20231019-0001), dates, amounts
(559,300 元), household counts and house numbers (新村巷38号) are left as they are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# --- the fields -------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张三丰 → 张**; the first character stays, a one-character name gets one star (李 → 李*)."""
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; shorter numbers keep only their last four digits."""
    if len(phone) >= 11:
        return phone[:3] + "****" + phone[-4:]
    return "****" + phone[-4:] if len(phone) > 4 else "****"


def _mask_long_number(digits: str) -> str:
    """ID and bank card numbers keep their first and last four characters: the length still
    says which kind of number it was, the middle (birth date, account) is gone."""
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_email(address: str) -> str:
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


# --- numbers and addresses in free text -------------------------------------------------------

# A number is bounded by non-digits on both sides: the middle of a longer number is not a phone.
_NUMBERS = re.compile(
    r"""
    (?<![A-Za-z0-9._+-])(?P<email>[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*
        \.[A-Za-z]{2,})
    |(?<!\d)(?P<id18>\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx])(?![\dXx])     # 身份证, 6-8-4 or tight
    |(?<!\d)(?P<card>\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?!\d)   # 银行卡 in groups of four
    |(?<!\d)(?P<long>\d{15,19})(?!\d)                               # 银行卡, old 15-digit ID
    |(?<![\d+])(?:(?:\+\s?86|0086)[ -]?|86|[(（]\+?86[)）]\s?)        # +86, 0086, (+86)
        (?P<mobile86>1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)
    |(?<!\d)(?P<mobile>1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)        # 手机 3-4-4 or tight
    |(?<!\d)[(（](?P<area>0\d{2,3})[)）]\s?(?P<local>\d{7,8})(?!\d)  # (0971)6123456
    |(?<!\d)(?P<landline>0\d{2,3}[ -]?\d{7,8})(?!\d)                # 0971-6123456
    """,
    re.VERBOSE,
)


def _mask_number(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "email":
        return _mask_email(match["email"])
    if kind == "local":  # the last group of the parenthesised fixed-line form
        return mask_phone(match["area"] + match["local"])
    digits = re.sub(r"[ -]", "", match[kind or 0])
    if kind in ("id18", "card", "long"):
        return _mask_long_number(digits)
    return mask_phone(digits)


# --- the complainant's name -------------------------------------------------------------------

# How people are named in replies and notes: 赵先生, 赵女士, 赵师傅, 赵阿姨 …
HONORIFICS = (
    "先生", "女士", "小姐", "师傅", "阿姨", "大爷", "大妈", "大娘", "大姐", "大哥", "老师",
    "同志", "奶奶", "爷爷", "叔叔", "伯伯", "老人",
)  # fmt: skip
# Two-character surnames, so that 欧阳先生 is found from 欧阳修 (and 欧先生 is not).
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "万俟", "澹台",
    "申屠", "太史", "闻人", "钟离", "赫连", "拓跋",
)  # fmt: skip
# What people type in the name field when they give none: not a name to look for in the text.
PLACEHOLDER_NAMES = frozenset({"匿名", "无", "无名", "未知", "不详", "市民", "群众", "网友"})
_CJK = re.compile(r"^[\u3400-\u9fff]+$")


def _surname(name: str) -> str:
    """The surname of a Chinese name (赵建国 → 赵, 欧阳修 → 欧阳, 赵先生 → 赵); "" otherwise."""
    for honorific in HONORIFICS:
        if name.endswith(honorific) and len(name) > len(honorific):
            name = name[: -len(honorific)]
            break
    if not _CJK.match(name):
        return ""
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound):
            return compound
    return name[:1]


@functools.lru_cache(maxsize=256)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the full names and every honorific form of their surnames, longest
    first so that 欧阳先生 wins over a shorter overlap."""
    mentions: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name or name in PLACEHOLDER_NAMES:
            continue
        if len(name) >= 2:
            mentions.add(name)
        surname = _surname(name)
        if surname:
            mentions.update(surname + honorific for honorific in HONORIFICS)
    if not mentions:
        return None
    return re.compile("|".join(re.escape(m) for m in sorted(mentions, key=len, reverse=True)))


def mask_text(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with phone, ID and bank card numbers, e-mail addresses and the people ``names``
    (the complainant, in any of the usual forms) masked. Idempotent: masking twice is masking
    once, so a text may pass through it at every layer without harm."""
    if not text:
        return text
    masked = _NUMBERS.sub(_mask_number, text)
    pattern = _name_pattern(tuple(n for n in names if n))
    if pattern is not None:
        masked = pattern.sub(lambda m: mask_name(m.group()), masked)
    return masked
