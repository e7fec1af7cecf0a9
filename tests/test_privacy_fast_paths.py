"""``mask_text``'s two shortcuts mask exactly what the patterns mask.

A page of cases masks text for a different complainant per case, so compiling the name pattern
for each was most of the masking's cost; Chinese names are now found with ``str.find``
(``_mask_mentions``), and a text without a digit or an @ skips the number pattern. Both must
give the answer of the patterns they stand for, on texts built to be awkward: overlapping
mentions, compound surnames, names that are words, honorifics next to each other, fullwidth
digits.
"""

from __future__ import annotations

import random

import pytest

from xining_issues.privacy import (
    _chinese_mentions,
    _mask_all_numbers,
    _name_pattern,
    mask_name,
    mask_text,
)

NAMES = [
    "赵建国", "欧阳修", "赵先生", "李", "欧阳", "张某", "业主", "王小明明", "赵", "欧阳先生",
    "李女士", "司马懿", "赵钱", " 孙建军 ", "钱师傅",
]  # fmt: skip
PIECES = [
    *"赵钱孙李欧阳司马懿张王先生女士师傅阿姨大爷老师建国军修某，。 ",
    "欧阳", "先生", "赵建国", "欧阳修", "赵先生", "13912345678", "１３９１２３４５６７８",
    "a@b.cn", "ｘ＠ｙ.com", "0971-6123456", "38号",
]  # fmt: skip


def by_patterns(text: str, names: tuple[str, ...]) -> str:
    """What ``mask_text`` did before the shortcuts: every pattern over every text."""
    if not text:
        return text
    masked = _mask_all_numbers(text)
    pattern = _name_pattern(tuple(n for n in names if n))
    if pattern is not None:
        masked = pattern.sub(lambda m: mask_name(m.group()), masked)
    return masked


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcuts_mask_what_the_patterns_mask(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(4000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 24)))
        names = tuple(rng.sample(NAMES, rng.randint(0, 2)))
        assert mask_text(text, names=names) == by_patterns(text, names), (text, names)


def test_a_latin_name_keeps_the_pattern() -> None:
    # A Latin name is found as a word, in any case: the pattern's work, not str.find's
    assert _chinese_mentions(("Zhao Wei",)) is None
    assert mask_text("call ZHAO WEI today, not zhao weiming", names=("Zhao Wei",)) == (
        "call Z******* today, not zhao weiming"
    )


def test_mentions_longest_first_and_no_overlap() -> None:
    # 欧阳先生 is one mention, not 欧阳 followed by 先生; 赵建国赵先生 is two
    assert mask_text("欧阳先生来电", names=("欧阳修",)) == "欧***来电"
    assert mask_text("赵建国赵先生", names=("赵建国",)) == "赵**赵**"


def test_numbers_without_a_digit_in_sight_are_not_looked_for() -> None:
    # Fullwidth digits and @ still lead to the number pattern
    assert mask_text("电话１３９１２３４５６７８") == "电话139****5678"
    assert mask_text("邮箱ｘｙ＠ｑｑ.com") != "邮箱ｘｙ＠ｑｑ.com"
    assert mask_text("暖气不热，请尽快处理。") == "暖气不热，请尽快处理。"
