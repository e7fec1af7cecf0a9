"""Notifications: the inbox (站内消息), the outbox and its SMS and e-mail backends.

The second room from the ground floor: it imports only ``org`` and the kernel ``xining_issues``.
What a message is about (its *subject*) may be any model (see ``subjects``); the apps to the
right say what they send and register their message templates (see ``messages``).
"""
