"""Settings from the environment: production refuses unsafe defaults and passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A clean production-like environment: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE.
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_secret_key_refuses_to_start() -> None:
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_with_the_development_key_refuses_to_start() -> None:
    from xining_issues.settings import DEVELOPMENT_SECRET_KEY

    result = manage("check", DEBUG="0", SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 24 + "-a-long-random-production-secret-" + "y" * 24,
        ALLOWED_HOSTS="issues.xining.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_start_with_a_placeholder_key() -> None:
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_readme_lists_every_environment_variable() -> None:
    from xining_issues.settings import ENV_VARIABLES

    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in ENV_VARIABLES if f"`{name}`" not in readme]
    assert missing == []


def test_language_and_time_zone() -> None:
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.TIME_ZONE == "Asia/Shanghai"
