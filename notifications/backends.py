"""SMS backends: a small interface, a logging backend for development and an HTTP gateway.
(E-mail goes through Django's own mail backends, ``EMAIL_BACKEND``.)

``SMS_BACKEND`` picks one: ``logging`` writes a line with the number masked (never the whole
number in a log), ``http`` POSTs JSON to ``SMS_GATEWAY_URL`` with a bearer token.

A backend raises ``SmsError`` when the message was not accepted; the outbox then tries again
later. ``SmsUncertain`` (and any other exception) means the gateway may have it: the request
went out but no answer came back. The outbox will not send that message again on its own (see
``notifications.services.drain_outbox``).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings

from xining_issues.privacy import mask_phone

logger = logging.getLogger(__name__)

# Seconds one call to the HTTP gateway may take. Far below the outbox lease
# (``notifications.services.LEASE``), so that a send by a live worker always ends, one way or
# the other, before its claim on the message runs out.
GATEWAY_TIMEOUT = 10.0


class SmsError(Exception):
    """The message was not accepted; the outbox will try again later."""


class SmsUncertain(Exception):
    """The request reached the gateway but its answer was lost (a timeout or a dropped
    connection while waiting): the message may have been delivered, so it is not retried."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str, *, key: str | None = None) -> None:
        """Send ``text`` to ``phone``; ``key`` names the message (the same on every retry)."""
        ...


class LoggingSmsBackend:
    def send(self, phone: str, text: str, *, key: str | None = None) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class HttpGatewaySmsBackend:
    """POST {"phone", "text"} as JSON; any 2xx is success.

    The message's key goes in an ``Idempotency-Key`` header: a gateway that honours it drops
    a retry of a message it did accept (say, when its answer timed out on the way back).
    """

    def __init__(self, url: str, token: str, timeout: float = GATEWAY_TIMEOUT) -> None:
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str, *, key: str | None = None) -> None:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except urllib.error.URLError as error:
            # urllib wraps what fails while connecting and writing the request (refused, DNS,
            # TLS), and an error status the gateway answered (HTTPError): not delivered.
            raise SmsError(str(error)) from error
        except OSError as error:
            # Raised bare while reading the answer: the request was written, so a slow gateway
            # may well have accepted it. Retrying is how one phone got three copies.
            raise SmsUncertain(f"no answer from the gateway: {error!r}") from error


def get_backend() -> SmsBackend:
    if settings.SMS_BACKEND == "http":
        return HttpGatewaySmsBackend(settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN)
    return LoggingSmsBackend()
