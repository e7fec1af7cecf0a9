"""The production docker-compose.yml: its structure, read with PyYAML (no Docker needed), and
``docker compose config`` where Docker Compose v2 is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"

SERVICES = {"db", "redis", "migrate", "web", "worker", "beat"}
APP_SERVICES = {"migrate", "web", "worker", "beat"}
LONG_RUNNING = {"db", "redis", "web", "worker", "beat"}
REQUIRED_SECRET_KEY = re.compile(r"^\$\{SECRET_KEY:\?[^}]+\}$")
TRUTHY = {"1", "true", "yes", "on", "y", "t"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whether written as a mapping or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """service name -> condition (the short list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_the_six_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_long_running_services_have_a_healthcheck(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    assert healthcheck["test"] and healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert services[name]["restart"] == "unless-stopped"


def test_images_and_build(services: dict[str, dict[str, Any]]) -> None:
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1, "web, worker, beat and migrate should share one image"
    for name in APP_SERVICES:
        assert services[name]["build"]["context"] == "."


def test_db_and_redis_checks(services: dict[str, dict[str, Any]]) -> None:
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "--appendonly" in services["redis"]["command"]
    assert "yes" in services["redis"]["command"]


def test_migrate_is_a_one_shot_after_the_database(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert depends_on(migrate)["db"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_wait_for_migrate_and_redis(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = depends_on(services[name])
    assert deps["migrate"] == "service_completed_successfully"
    assert deps["redis"] == "service_healthy"


def test_web_serves_on_8000_and_checks_healthz(services: dict[str, dict[str, Any]]) -> None:
    web = services["web"]
    assert "8000:8000" in [str(port) for port in web["ports"]]
    check = " ".join(web["healthcheck"]["test"])
    assert "/healthz" in check
    assert "urllib" in check
    assert "curl" not in check, "the slim image has no curl"
    # Without the proxy's header the HTTPS redirect would answer 301, not the JSON.
    assert "X-Forwarded-Proto" in check
    # Healthy is HTTP 200: "degraded" (cache or worker down) keeps web in service, and the
    # 503 for a database or broker outage makes urlopen raise.
    assert "response.status == 200" in check
    assert '== "ok"' not in check
    timeout = int(web["healthcheck"]["timeout"].rstrip("s"))
    assert timeout > 5, "the check's own urlopen timeout must fit inside the healthcheck's"


def test_worker_runs_celery_and_pings_its_own_node(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert worker["command"][:4] == ["celery", "-A", "xining_issues", "worker"]
    check = " ".join(worker["healthcheck"]["test"])
    assert "inspect ping" in check
    # $$ in the file: Compose leaves $HOSTNAME for the container's shell to expand.
    assert "celery@$$HOSTNAME" in check


def test_exactly_one_beat_with_the_database_scheduler(
    services: dict[str, dict[str, Any]],
) -> None:
    beat = services["beat"]
    assert beat["command"][:4] == ["celery", "-A", "xining_issues", "beat"]
    assert any("django_celery_beat.schedulers:DatabaseScheduler" in arg for arg in beat["command"])
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert beat.get("scale", 1) == 1
    for name, service in services.items():
        if name != "beat":
            command = service.get("command") or []
            assert not {"beat", "-B", "--beat"} & set(command), f"{name} also runs beat"


def test_named_volumes_are_declared_and_mounted(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["volumes"])
    assert {"db-data", "redis-data", "media"} <= declared

    def sources(name: str) -> set[str]:
        return {str(volume).split(":", 1)[0] for volume in services[name].get("volumes", [])}

    assert "db-data" in sources("db")
    assert "redis-data" in sources("redis")
    for name in ("web", "worker"):
        assert "media" in sources(name)
    for name in SERVICES:
        assert sources(name) <= declared, f"{name} mounts an undeclared volume"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_environment_is_production(services: dict[str, dict[str, Any]], name: str) -> None:
    env = environment(services[name])
    assert env["DEBUG"] == "0"
    assert REQUIRED_SECRET_KEY.match(env["SECRET_KEY"]), "SECRET_KEY must be required (:?)"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["ALLOWED_HOSTS"] == "${ALLOWED_HOSTS:-localhost}"
    assert env["SECURE_SSL_REDIRECT"] == "${SECURE_SSL_REDIRECT:-1}"
    assert env["MEDIA_ROOT"] == "/data/media"
    # Limits count per client address: the proxy in front is named by the operator, none by
    # default (then X-Forwarded-For is ignored, never believed).
    assert env["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-}"
    assert env["CACHE_URL"].startswith("redis://redis:6379/")


def test_no_service_turns_debug_on(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        debug = environment(service).get("DEBUG", "0").strip().lower()
        assert debug not in TRUTHY, f"{name} sets DEBUG={debug}"
        assert not debug.startswith("${"), f"{name} lets the environment choose DEBUG"


def test_secret_key_has_no_default_anywhere() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    uses = re.findall(r"\$\{SECRET_KEY[^}]*\}", text)
    assert uses, "SECRET_KEY is not passed to the app"
    assert all(REQUIRED_SECRET_KEY.match(use) for use in uses), uses


# --- Docker Compose itself, where it is installed ----------------------------------------------


def compose_v2() -> list[str]:
    """The `docker compose` command, or skip the test with the reason it is unavailable."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker CLI not installed: cannot run `docker compose config`")
    try:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"`docker compose version` did not run: {error}")
    if version.returncode != 0:
        reason = (version.stderr or version.stdout).strip().splitlines()
        pytest.skip(
            "Docker Compose v2 plugin not installed (`docker compose version` failed: "
            f"{reason[0] if reason else version.returncode})"
        )
    return [docker, "compose"]


def run_config(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker compose config -q` with only the given variables set (no .env file is read)."""
    command = compose_v2()
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "POSTGRES_PASSWORD"} and not key.startswith("COMPOSE_")
    }
    env.update(variables)
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "--env-file", str(empty_env_file), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=BASE_DIR,
    )


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    result = run_config(
        tmp_path, SECRET_KEY="test-secret-key-for-compose-config", POSTGRES_PASSWORD="test"
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_refuses_a_missing_secret_key(tmp_path: Path) -> None:
    result = run_config(tmp_path, POSTGRES_PASSWORD="test")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
