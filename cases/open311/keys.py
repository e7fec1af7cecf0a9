"""API keys of Open311 clients: made once, kept hashed, checked in constant time.

A key is 32 random bytes (``secrets.token_urlsafe``); the database keeps its SHA-256 only, so a
leaked backup or a curious administrator holds no working key. A key this long needs no slow
hash: nobody guesses 2^256. The lookup is by the hash's unique index, then the stored and the
computed hash are compared with ``hmac.compare_digest`` so the answer's timing says nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from ..models import Open311Client

PREFIX_LENGTH = 8


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(client: Open311Client) -> str:
    """Give an unsaved client a new key: its hash and prefix are set, the key is returned (to be
    shown once, never stored)."""
    key = secrets.token_urlsafe(32)
    client.key_hash, client.key_prefix = _digest(key), key[:PREFIX_LENGTH]
    return key


def open311_client_create(*, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """A new client and its key; the key is returned here and never again."""
    client = Open311Client(name=name, contact=contact)
    key = issue_key(client)
    client.save()
    return client, key


def open311_client_revoke(*, client: Open311Client) -> Open311Client:
    """The key stops working at once; the client's cases keep naming it."""
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def client_for_key(key: str) -> Open311Client | None:
    """The live client whose key this is, or None (no such key, or revoked)."""
    if not key:
        return None
    digest = _digest(key)
    client = Open311Client.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    if client is None or not hmac.compare_digest(client.key_hash, digest):
        return None
    return client


def mark_used(client: Open311Client) -> None:
    """When the key was last used, for the admin (one UPDATE, no read-modify-write race)."""
    Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
