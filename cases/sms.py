"""SMS backends: a small interface, a logging backend for development and an HTTP gateway.

``SMS_BACKEND`` picks one: ``logging`` writes a line with the number masked (never the whole
number in a log), ``http`` POSTs JSON to ``SMS_GATEWAY_URL`` with a bearer token.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Protocol

from django.conf import settings

from .selectors import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The message was not accepted; the outbox will try again later."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsBackend:
    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class HttpGatewaySmsBackend:
    """POST {"phone", "text"} as JSON; any 2xx is success."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except OSError as error:
            raise SmsError(str(error)) from error


def get_backend() -> SmsBackend:
    if settings.SMS_BACKEND == "http":
        return HttpGatewaySmsBackend(settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN)
    return LoggingSmsBackend()
