"""Input checks shared by the workflow and the API."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from xining_issues.errors import invalid

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def validate_phone(value: str | None) -> str:
    """A mainland mobile (13812345678) or landline (0971-1234567) number, spaces removed."""
    phone = re.sub(r"[\s()]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not (MOBILE.match(phone) or LANDLINE.match(phone)):
        raise invalid("complainant_phone", _("请填写正确的手机号或固定电话。"))
    return phone
