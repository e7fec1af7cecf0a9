"""``python manage.py open311_key NAME [--contact TEXT]``: a new Open311 client and its API key.

The key is printed once, here; the database keeps only its SHA-256 (``cases.open311.keys``). Lost
keys are not recovered: revoke the client in the admin and make a new one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Open311Client
from cases.open311 import keys


class Command(BaseCommand):
    help = "Create an Open311 client and print its API key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The client's name, e.g. 'WeChat mini-program'.")
        parser.add_argument("--contact", default="", help="Who to call about it.")

    def handle(self, *args: object, name: str, contact: str, **options: object) -> None:
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be blank.")
        if Open311Client.objects.filter(name=name).exists():
            raise CommandError(f"A client named {name!r} exists; revoke it or pick another name.")
        client, key = keys.open311_client_create(name=name, contact=contact.strip())
        self.stdout.write(
            f"Open311 client {client.name} (id {client.pk}, key {client.key_prefix}…)"
        )
        self.stdout.write("API key, shown only now; give it to the client and do not keep it:")
        self.stdout.write(key)
