"""Sign-in lockout on the login page and the token endpoint, and the password policy.

A username is locked after LOGIN_FAILURE_LIMIT (5) failures from any address; an address after
LOGIN_IP_FAILURE_LIMIT (20) failures for any usernames; either for LOGIN_LOCKOUT_MINUTES (15).
The lock is kept in the database (django-axes), so it holds while Redis is down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from demo.organisation import DEMO_PASSWORD
from org.models import User
from tests.conftest import Demo
from xining_issues.cache import cache_settings

USERNAME = "committee1"


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    # The token endpoint's per-address rate limit counts in the cache.
    cache.clear()
    yield
    cache.clear()


def login_page(username: str, password: str, *, ip: str) -> Any:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    response.signed_in = "_auth_user_id" in client.session
    return response


def token(username: str, password: str, *, ip: str) -> Any:
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def fail(username: str, times: int, *, first_ip: int = 1) -> list[int]:
    return [
        login_page(username, f"wrong-{n}", ip=f"198.51.100.{first_ip + n}").status_code
        for n in range(times)
    ]


class TestLoginPage:
    def test_a_username_locks_after_five_failures_from_any_address(self, demo: Demo) -> None:
        # Given four wrong passwords for one account, each from another address
        assert fail(USERNAME, 4) == [200] * 4

        # When a fifth comes in
        fifth = login_page(USERNAME, "wrong-5", ip="198.51.100.5")

        # Then the page says the sign-in is locked and for how long
        assert fifth.status_code == 429
        page = fifth.content.decode()
        assert "登录已暂时锁定" in page
        assert "15 分钟" in page
        # And the right password from a new address does not sign in
        right = login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9")
        assert right.status_code == 429
        assert not right.signed_in

    def test_other_accounts_still_sign_in_while_one_is_locked(self, demo: Demo) -> None:
        fail(USERNAME, 5)
        response = login_page("resident1", DEMO_PASSWORD, ip="203.0.113.9")
        assert response.status_code == 302 and response.signed_in

    def test_an_address_locks_after_twenty_failures_for_any_usernames(self, demo: Demo) -> None:
        # Given one address that fails once each for twenty usernames, real or not
        ip = "198.51.100.200"
        statuses = [login_page(f"guess{n}", "wrong", ip=ip).status_code for n in range(19)]
        assert statuses == [200] * 19
        assert login_page("guess19", "wrong", ip=ip).status_code == 429
        # Then no account signs in from it, even with the right password
        assert login_page("resident1", DEMO_PASSWORD, ip=ip).status_code == 429
        # But the same account signs in from another address
        assert login_page("resident1", DEMO_PASSWORD, ip="203.0.113.9").signed_in

    def test_an_ipv6_client_locks_for_its_whole_64(self, demo: Demo) -> None:
        # Given twenty failures, each from another address of one IPv6 /64
        statuses = [
            login_page(f"guess{n}", "wrong", ip=f"2001:db8:1:2::{n + 1:x}").status_code
            for n in range(20)
        ]
        # Then the twentieth locks the /64, whichever of its addresses comes next
        assert statuses == [200] * 19 + [429]
        assert login_page("resident1", DEMO_PASSWORD, ip="2001:db8:1:2::ffff").status_code == 429
        # And another /64 still signs in
        assert login_page("resident1", DEMO_PASSWORD, ip="2001:db8:1:3::1").signed_in

    def test_failed_sign_ins_stay_in_the_log(self, demo: Demo) -> None:
        fail(USERNAME, 2)
        assert AccessFailureLog.objects.filter(username=USERNAME).count() == 2

    def test_a_success_on_another_account_does_not_reset_the_count(self, demo: Demo) -> None:
        # Given a guesser with an account of their own, at one address
        ip = "198.51.100.77"
        for n in range(4):
            assert login_page(USERNAME, f"wrong-{n}", ip=ip).status_code == 200
        # When they sign in to their own account between guesses
        assert login_page("resident1", DEMO_PASSWORD, ip=ip).signed_in
        # Then the next wrong guess still locks the account under attack
        assert login_page(USERNAME, "wrong-5", ip=ip).status_code == 429
        assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").status_code == 429

    def test_the_lock_lifts_after_fifteen_minutes(self, demo: Demo) -> None:
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            fail(USERNAME, 5)
            clock.shift(dt.timedelta(minutes=14))
            assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").status_code == 429
            clock.shift(dt.timedelta(minutes=1, seconds=1))
            response = login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9")
            assert response.status_code == 302 and response.signed_in

    def test_tries_while_locked_do_not_stretch_the_lock(self, demo: Demo) -> None:
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            fail(USERNAME, 5)
            clock.shift(dt.timedelta(minutes=10))
            assert fail(USERNAME, 3, first_ip=100) == [429] * 3
            clock.shift(dt.timedelta(minutes=5, seconds=1))
            assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").signed_in

    def test_an_administrator_unlocks_in_the_admin(self, demo: Demo) -> None:
        # Given a locked account
        fail(USERNAME, 5)
        attempts = list(AccessAttempt.objects.filter(username=USERNAME))
        assert attempts
        # When the administrator deletes its attempts under 访问尝试 in the admin
        admin = Client()
        admin.force_login(demo.user("admin"))
        changelist = "/admin/axes/accessattempt/"
        assert admin.get(changelist).status_code == 200
        response = admin.post(
            changelist,
            {
                "action": "delete_selected",
                "_selected_action": [a.pk for a in attempts],
                "post": "yes",
            },
        )
        assert response.status_code == 302
        # Then the account signs in again at once
        assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").signed_in

    def test_the_admin_login_is_locked_too(self, demo: Demo) -> None:
        fail("admin", 5)
        response = Client(REMOTE_ADDR="203.0.113.9").post(
            "/admin/login/?next=/admin/", {"username": "admin", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 429

    def test_the_lock_holds_while_redis_is_down(self, demo: Demo) -> None:
        # Given the cache pointed at a port where nothing listens
        down = {"default": cache_settings(url="redis://127.0.0.1:1/0")}
        with override_settings(CACHES=down):
            # Then five failures still lock the account, and the lock is in the database
            assert fail(USERNAME, 5) == [200] * 4 + [429]
            assert AccessAttempt.objects.filter(username=USERNAME).exists()
            assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").status_code == 429


class TestTokenEndpoint:
    def test_it_locks_after_five_failures(self, demo: Demo) -> None:
        statuses = [
            token(USERNAME, f"wrong-{n}", ip=f"198.51.100.{n}").status_code for n in range(5)
        ]
        assert statuses == [400] * 4 + [429]
        response = token(USERNAME, DEMO_PASSWORD, ip="203.0.113.9")
        assert response.status_code == 429
        body = response.json()
        assert body["code"] == "locked"
        assert "15" in body["message"]
        assert "token" not in body

    def test_the_login_page_and_the_token_share_one_count(self, demo: Demo) -> None:
        # Three failures on the page and two on the API lock both doors
        assert fail(USERNAME, 3) == [200] * 3
        statuses = [
            token(USERNAME, f"wrong-{n}", ip=f"198.51.100.{50 + n}").status_code for n in range(2)
        ]
        assert statuses == [400, 429]
        assert login_page(USERNAME, DEMO_PASSWORD, ip="203.0.113.9").status_code == 429

    def test_a_right_password_still_gets_a_token(self, demo: Demo) -> None:
        response = token(USERNAME, DEMO_PASSWORD, ip="203.0.113.9")
        assert response.status_code == 200
        assert response.json()["token"]


# --- password policy -------------------------------------------------------------------------


def register(password: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/register/",
        {"username": "new_resident", "password": password, "display_name": "新居民"},
        format="json",
    )


@pytest.mark.parametrize(
    "password",
    [
        "xining123",  # the city and digits: the first thing a guesser tries
        "Xining@2024",
        "qinghai2023!",
        "Huangzhong888",
        "admin888",
        "demo12345",  # the demo password is printed in the README
        "woaini1314",
        "zhang19900101",
        "aaaa1111",
        "abcdefgh",  # no digit
        "12345678",  # no letter
        "a1b2c3",  # too short
        "password1",  # Django's common list
    ],
)
def test_weak_passwords_are_refused_at_registration(demo: Demo, password: str) -> None:
    response = register(password)
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(username="new_resident").exists()


@pytest.mark.parametrize("password", ["Lnvshi-Kx82", "k7#pQ2wz", "康西社区2024rx"])
def test_a_password_with_letters_and_digits_that_is_not_common_is_accepted(
    demo: Demo, password: str
) -> None:
    response = register(password)
    assert response.status_code == 201, response.content


def test_the_demo_accounts_keep_their_demo_password(demo: Demo) -> None:
    # The policy applies to new passwords; the seeded accounts sign in as the README says.
    response = login_page("dispatcher_huangzhong", DEMO_PASSWORD, ip="203.0.113.9")
    assert response.status_code == 302 and response.signed_in
