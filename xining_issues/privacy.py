"""De-identification (PIPL): the one place that masks personal data for readers without the need.

The complainant's name and phone fields are masked by ``mask_name`` and ``mask_phone``; free text
(a title, a description, a note, a reply) by ``mask_text``, which finds what people type into it:
mainland mobile and fixed-line numbers, ID numbers, bank card numbers, e-mail addresses and the
complainant's own name, also as 赵先生 / 赵女士 / 赵师傅. Who needs the whole text is decided by
the caller (``cases.selectors.can_see_identity``); this module only masks.

The patterns are shaped after how numbers are written, not after "any long run of digits", so
that the facts around them stay readable: tracking codes (XN-20231019-0001), dates, amounts
(559,300 元, 15000000000元), household counts and house numbers (新村巷38号) are left as they are.
A long number is masked only when it is one: an 18-digit ID passes the GB 11643 check digit, a
15-digit (old) ID has a birth date where it belongs, a bank card of 16–19 digits passes Luhn.
Fullwidth digits (１３９…) are read as digits. The complainant's name is looked for only when it
looks like a name (2–4 Chinese characters, or a Latin name matched as a word) and is not a
word people type instead of one (业主, 居民, 匿名 …).
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

# Fullwidth ASCII (０-９, Ａ-Ｚ, －, ＠ …) and the ideographic space read as their ASCII forms for
# matching. One character for one, so a match's span is the span in the original text.
_HALFWIDTH = str.maketrans(
    {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " "}
)

# A number is bounded by non-digits on both sides: the middle of a longer number is not a phone.
# A mobile number is no amount: 15000000000元 is money.
_NUMBERS = re.compile(
    r"""
    (?<![A-Za-z0-9._+-])(?P<email>[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*
        \.[A-Za-z]{2,})
    |(?<!\d)(?P<id18>\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx])(?![\dXx])     # 身份证, 6-8-4 or tight
    |(?<!\d)(?P<card>\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?!\d)   # 银行卡 in groups of four
    |(?<!\d)(?P<long>\d{15,19})(?!\d)                               # 银行卡, old 15-digit ID
    |(?<![\d+])(?:(?:\+\s?86|0086)[ -]?|86|\(\+?86\)\s?)              # +86, 0086, (+86)
        (?P<mobile86>1[3-9]\d[ .-]?\d{4}[ .-]?\d{4})(?!\d|\s*[元万亿])
    |(?<![\d¥￥$])(?P<mobile>1[3-9]\d[ .-]?\d{4}[ .-]?\d{4})(?!\d|\s*[元万亿])  # 手机 3-4-4
    |(?<!\d)\((?P<area>0\d{2,3})\)\s?(?P<local>\d{7,8})(?!\d)        # (0971)6123456
    |(?<!\d)(?P<landline>0\d{2,3}[ -]?\d{7,8})(?!\d)                # 0971-6123456
    """,
    re.VERBOSE | re.ASCII,
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_YEAR = re.compile(r"(?:19|20)\d\d")
_SEPARATOR = re.compile(r"[ .-]")
_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def _is_id18(digits: str) -> bool:
    """GB 11643: the 18th character is the check digit of the first 17."""
    if not digits[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS, strict=False))
    return "10X98765432"[total % 11] == digits[17].upper()


def _looks_like_id18(digits: str) -> bool:
    """An 18-character ID by its shape (region code, a birth date of 19xx/20xx, check character)
    even when its check digit is wrong: a mistyped ID still names a person, so it is masked."""
    if not (digits[:17].isdigit() and (digits[17].isdigit() or digits[17] in "Xx")):
        return False
    year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    return digits[0] in "12345678" and 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _is_id15(digits: str) -> bool:
    """The old 15-digit ID has no check digit: a region code and a birth date (YYMMDD)."""
    month, day = int(digits[8:10]), int(digits[10:12])
    return digits[0] in "12345678" and 1 <= month <= 12 and 1 <= day <= 31


_LUHN_DOUBLED = {str(d): (2 * d) % 9 if d != 9 else 9 for d in range(10)}


def _passes_luhn(digits: str) -> bool:
    backwards = digits[::-1]
    total = sum(map(int, backwards[0::2])) + sum(_LUHN_DOUBLED[c] for c in backwards[1::2])
    return total % 10 == 0


def _is_long_number(digits: str, written: str) -> bool:
    """Whether a 15–19 character run is an ID or a bank card, not an invoice number or a list
    of years (2020-2021-2022-2023)."""
    groups = _SEPARATOR.split(written)
    if len(groups) > 1 and all(_YEAR.fullmatch(g) for g in groups):
        return False
    if len(digits) == 18 and (_is_id18(digits) or _looks_like_id18(digits)):
        return True
    if not digits.isdigit():
        return False
    if len(digits) == 15:
        return _is_id15(digits)
    return len(digits) >= 16 and _passes_luhn(digits)


def _mask_number(match: re.Match[str]) -> str:
    """The masked form of what ``_NUMBERS`` matched (in the halfwidth copy of the text)."""
    if match["email"]:
        return _mask_email(match["email"])
    if match["local"]:
        return mask_phone(match["area"] + match["local"])
    kind = next(k for k in ("id18", "card", "long", "mobile86", "mobile", "landline") if match[k])
    written = match[kind]
    digits = _SEPARATOR.sub("", written)
    if kind in ("id18", "card", "long"):
        return _mask_long_number(digits) if _is_long_number(digits, written) else match[0]
    return mask_phone(digits)


# Every number and address ``_NUMBERS`` finds holds an ASCII digit or an @ once the text is
# halfwidth: a text with none of them (or their fullwidth forms) needs no pass of it.
_NUMBER_HINT = re.compile("[0-9@\uff10-\uff19\uff20]")


def _mask_numbers(text: str) -> str:
    return _mask_all_numbers(text) if _NUMBER_HINT.search(text) else text


def _mask_all_numbers(text: str) -> str:
    halfwidth = text.translate(_HALFWIDTH) if _FULLWIDTH.search(text) else text
    parts: list[str] = []
    end = 0
    for match in _NUMBERS.finditer(halfwidth):
        masked = _mask_number(match)
        if masked == match[0]:  # not personal after all: keep the original characters
            continue
        parts += [text[end : match.start()], masked]
        end = match.end()
    parts.append(text[end:])
    return "".join(parts)


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
# What people type in the name field when they give none, and the places they type instead:
# not a name to look for in the text (业主 would turn 业主委员会 into 业*委员会).
PLACEHOLDER_NAMES = frozenset(
    {
        "业主", "居民", "住户", "租户", "商户", "村民", "群众", "市民", "网友", "游客", "家属",
        "热心市民", "热心群众", "业主代表", "居民代表", "村民代表", "保密", "匿名", "不愿透露",
        "不愿透露姓名", "某某", "本人", "无", "无名", "未知", "不详", "没有", "暂无", "同上",
        "城中", "城东", "城西", "城北", "海湖", "湟中", "湟源", "大通", "西宁", "青海",
        *HONORIFICS,
    }
)  # fmt: skip
_CJK = re.compile(r"[\u3400-\u9fff]+")
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ .'-][A-Za-z]+)*")


def _surname(name: str) -> str:
    """The surname of a Chinese name (赵建国 → 赵, 欧阳修 → 欧阳, 赵先生 → 赵); "" otherwise."""
    for honorific in HONORIFICS:
        if name.endswith(honorific) and len(name) > len(honorific):
            name = name[: -len(honorific)]
            break
    if not _CJK.fullmatch(name) or "某" in name:
        return ""
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound):
            return compound
    return name[:1]


def _mentions(raw: str) -> list[tuple[str, str]]:
    """How this person is named in a text, as (the words, the regex that finds them); nothing
    if ``raw`` is no name."""
    name = raw.strip()
    if name in PLACEHOLDER_NAMES:
        return []
    if _LATIN_NAME.fullmatch(name):
        letters = sum(c.isalpha() for c in name)
        word = rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])"
        return [(name, word)] if letters >= 2 else []
    if not _CJK.fullmatch(name) or len(name) > 4:
        return []
    # No look at what follows (建国路): the case search repeats this masking in SQL.
    mentions = [(name, re.escape(name))] if len(name) >= 2 else []
    surname = _surname(name)
    if surname:  # 赵先生, 赵女士 … also from a one-character name
        mentions += [(surname + h, re.escape(surname + h)) for h in HONORIFICS]
    return mentions


def is_person_name(raw: str) -> bool:
    """Whether ``mask_text`` looks for this name field in the text (see ``_mentions``)."""
    return bool(_mentions(raw))


@functools.lru_cache(maxsize=4096)
def _chinese_mentions(names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The mentions of ``names`` longest first, when every name is Chinese: then each mention
    is a plain string that starts with the name's first character and has no case, so
    ``_mask_mentions`` finds them with ``str.find``. None when a Latin name needs the pattern.

    Every case has its own complainant, so a page of cases would otherwise compile a pattern
    per case (a sixth of a millisecond each, more than the masking itself)."""
    found: set[str] = set()
    for raw in names:
        mentions = _mentions(raw)
        if mentions and not _CJK.fullmatch(raw.strip()):
            return None
        found.update(words for words, _regex in mentions)
    return tuple(sorted(found, key=len, reverse=True))


def _mask_mentions(text: str, mentions: tuple[str, ...]) -> str:
    """``_name_pattern(...).sub`` for plain Chinese mentions: left to right, the longest
    mention at each place, no overlaps (what the alternation, longest first, does)."""
    firsts = {m[0] for m in mentions}
    parts: list[str] = []
    start = 0
    index = min((i for i in (text.find(f) for f in firsts) if i >= 0), default=-1)
    while index >= 0:
        words = next((m for m in mentions if text.startswith(m, index)), None)
        if words is None:
            index += 1
        else:
            parts += [text[start:index], mask_name(words)]
            start = index = index + len(words)
        index = min((i for i in (text.find(f, index) for f in firsts) if i >= 0), default=-1)
    parts.append(text[start:])
    return "".join(parts)


@functools.lru_cache(maxsize=256)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the full names and every honorific form of their surnames, longest
    first so that 欧阳先生 wins over a shorter overlap."""
    mentions = {m for raw in names for m in _mentions(raw)}
    if not mentions:
        return None
    ordered = sorted(mentions, key=lambda m: len(m[0]), reverse=True)
    return re.compile("|".join(regex for _words, regex in ordered), re.IGNORECASE)


def mask_text(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with phone, ID and bank card numbers, e-mail addresses and the people ``names``
    (the complainant, in any of the usual forms) masked. Idempotent: masking twice is masking
    once, so a text may pass through it at every layer without harm."""
    if not text:
        return text
    masked = _mask_numbers(text)
    given = tuple(n for n in names if n)
    mentions = _chinese_mentions(given)
    if mentions is not None:
        return _mask_mentions(masked, mentions) if mentions else masked
    pattern = _name_pattern(given)
    if pattern is not None:
        masked = pattern.sub(lambda m: mask_name(m.group()), masked)
    return masked
