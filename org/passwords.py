"""Password rules beyond Django's, per 等保 2.0 level-2 practice (GB/T 22239-2019 8.1.4.1 a:
passwords of some complexity, changed from time to time).

Django already refuses short, all-digit, user-like and its 20,000 most common passwords. What it
lets through here is the local kind a guesser tries first: the city or a district in pinyin,
the site's own words or a keyboard row, plus digits (``xining123``, ``Qinghai@2024``,
``admin888``), and passwords without a letter or without a digit.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Lower-case words whose password is nothing but the word plus digits and symbols. Place names of
# Xining and Qinghai, the service's own words, the demo password's word (it is in the README),
# and what leaked Chinese password lists show most: 我爱你, keyboard rows, common surnames.
# fmt: off
LOCAL_WORDS = frozenset(
    {
        # places
        "xining", "xiningshi", "xn", "qinghai", "qh", "chengdong", "chengzhong", "chengxi",
        "chengbei", "huangzhong", "datong", "huangyuan", "huangshui", "duoba", "kangxi",
        # the service and its accounts
        "xiningissues", "issues", "rexian", "zhengwu", "zhengfu", "sheng", "shi", "admin",
        "administrator", "root", "demo", "test", "user", "guest", "mima", "password", "passwd",
        "pass", "pwd", "qwe", "qwer", "qwert", "qwerty", "asd", "asdf", "zxc", "zxcv", "abc",
        "abcd", "abcde", "abcdef", "woaini", "iloveyou", "aini",
        # the most common surnames (name + birthday is the most common pattern of all)
        "wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "ma", "han",
    }
)
# fmt: on
NOT_LETTERS = re.compile(r"[\W\d_]+")


class LettersAndDigitsValidator:
    """At least one letter and one digit."""

    def validate(self, password: str, user: Any = None) -> None:
        has_letter = any(char.isalpha() for char in password)
        has_digit = any(char.isdigit() for char in password)
        if not (has_letter and has_digit):
            raise ValidationError(
                _("密码必须同时包含字母和数字。"), code="password_needs_letters_and_digits"
            )

    def get_help_text(self) -> str:
        return _("密码必须同时包含字母和数字。")


class LocalCommonPasswordValidator:
    """Not a local word (or one letter repeated) dressed up with digits and symbols."""

    def validate(self, password: str, user: Any = None) -> None:
        letters = NOT_LETTERS.sub("", password.lower())
        if letters in LOCAL_WORDS or len(set(letters)) == 1:
            raise ValidationError(
                _("这个密码太容易被猜到（常用词加数字），请换一个。"),
                code="password_too_common_locally",
            )

    def get_help_text(self) -> str:
        return _("密码不能是地名、用户名等常用词加数字。")
