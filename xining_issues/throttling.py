"""Who the client is, and how many tries it gets.

Every rate limit and lockout keys on ``client_ip(request)``. ``X-Forwarded-For`` is a header
anyone can send, so only the hops appended by a proxy listed in ``TRUSTED_PROXIES`` are believed:
with none listed (the default) the header is ignored and the socket's address is the client.
A forged header therefore never resets a limit.

Counts live in the default cache (Redis in production, shared by every web process). When Redis
is down the cache falls back to this process's memory (``xining_issues.cache``): limits then
count per process, which is weaker but keeps intake, tracking and sign-in working.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import throttling

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted if entry)


def trusted_proxies() -> tuple[Network, ...]:
    """The proxies whose ``X-Forwarded-For`` hop is believed: ``TRUSTED_PROXIES``, as IPs or
    CIDRs."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _parse(value: str) -> Address | None:
    """An address as a proxy writes it: bare, ``1.2.3.4:port`` or ``[v6]:port``; else None."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # One client, one key: ::ffff:1.2.3.4 is 1.2.3.4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket's, or, when the socket is a trusted proxy, the hop that
    the nearest untrusted party was seen at.

    ``X-Forwarded-For`` is read right to left, because each proxy appends the address it saw:
    the right-most entries are the only ones a trusted proxy wrote. The walk stops at the first
    address that is not a trusted proxy; whatever the client put to the left of it is ignored.
    """
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        # No socket address (a request made up in code, a unix socket): unknown, which
        # django-axes stores as NULL and a throttle counts as one client.
        return ""
    proxies = trusted_proxies()
    if not proxies:
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    address = remote
    while hops and any(address in network for network in proxies):
        hop = _parse(hops.pop())
        if hop is None:
            # A trusted proxy passed on something that is not an address: trust goes no further.
            break
        address = hop
    return str(address)


def rate_limit_key(address: str) -> str:
    """The key a rate limit counts under: the address, or for IPv6 its /64, because one
    household or phone is usually given a whole /64 and could otherwise rotate through it."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def lockout_address(request: HttpRequest) -> str:
    """The address a sign-in lockout counts under (django-axes): like ``rate_limit_key``, an
    IPv6 client's /64, written as its network address so that it still fits an address field."""
    address = _parse(client_ip(request))
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return "" if address is None else str(address)


class ClientIdentity:
    """Mixin for every DRF throttle in the project: the client is ``client_ip(request)``, never
    DRF's own reading of ``X-Forwarded-For`` (``NUM_PROXIES``), which trusts what the client sent.
    A test walks the URL map and checks that each view's throttles have it."""

    def get_ident(self, request: Any) -> str:
        return rate_limit_key(client_ip(request))


class AnonRateThrottle(ClientIdentity, throttling.AnonRateThrottle):
    """Anonymous requests per client address."""


class ScopedRateThrottle(ClientIdentity, throttling.ScopedRateThrottle):
    """Requests per user (signed in) or per client address (anonymous), per ``throttle_scope``."""


# --- counting in the shared cache ------------------------------------------------------------


def count_hit(key: str, *, seconds: int) -> int:
    """Count one more hit on ``key`` in a window of ``seconds`` opened by its first hit; returns
    the count so far. Atomic in Redis (``INCR``), so concurrent requests never lose a hit."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:
        # The window ended between add and incr: this hit opens a new one.
        cache.set(key, 1, timeout=seconds)
        return 1


# --- wrong guesses per subject ---------------------------------------------------------------


class Locked(Exception):
    """Too many wrong guesses on this subject: refused until the lock lifts."""


@dataclass(frozen=True)
class GuessLimit:
    """At most ``limit`` wrong guesses on one subject (a tracking code, say), counted whatever
    address they come from; the guess that reaches the limit locks the subject for
    ``lock_seconds``, during which even the right answer is refused.

    Each try takes its place in the count *before* it is checked and gives it back only if it
    was right, so fifty guesses sent at once are still at most ``limit`` checks.
    """

    scope: str
    limit: int
    lock_seconds: int

    def _key(self, subject: str) -> str:
        # Hashed: the subject is user input of any length and alphabet, not a safe cache key.
        digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
        return f"guess:{self.scope}:{digest}"

    def claim(self, *, subject: str) -> GuessClaim:
        """Take a try on ``subject``; raises ``Locked`` when its tries are used up."""
        key = self._key(subject)
        tries = count_hit(key, seconds=self.lock_seconds)
        if tries > self.limit:
            raise Locked
        return GuessClaim(limit=self, key=key, tries=tries)


@dataclass(frozen=True)
class GuessClaim:
    limit: GuessLimit
    key: str
    tries: int

    def right(self) -> None:
        """The guess was right: it does not count against the subject."""
        # If the window ended meanwhile there is nothing to give back.
        with contextlib.suppress(ValueError):
            cache.decr(self.key)

    def wrong(self) -> None:
        """The guess was wrong: it stays counted; the one that reaches the limit starts the
        full lock, however long ago the first wrong guess was."""
        if self.tries >= self.limit.limit:
            cache.touch(self.key, self.limit.lock_seconds)
