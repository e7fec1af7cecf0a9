"""Where uploads and background exports are kept: the default file storage, by ``MEDIA_STORAGE``.

* ``local`` (the default): Django's ``FileSystemStorage`` under ``MEDIA_ROOT``. Enough for one
  machine, or for several that mount one shared volume.
* ``s3``: an S3-compatible object store through django-storages: MinIO on a government
  intranet, or a cloud's object storage. Every web node and worker reads and writes the same
  files, so a photo stored through one node is served by any other.

Either way the files are private. Nothing is served from ``MEDIA_URL`` nor from the bucket: the
views that check permission stream a file from the storage (``xining_issues.downloads``), so the
bucket needs no public policy and no URL of it is ever handed out. Code reaches stored files only
through the storage API (``open``, ``save``, ``exists``, ``delete``, ``size``), never ``path()``,
which an object store does not have.

``settings.py`` declares the variables below (``STORAGE_ENV_VARIABLES``, merged into its one
table) and calls ``default_storage_config(env)`` for ``STORAGES["default"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import environ

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
KINDS = ("local", "s3")
ADDRESSING_STYLES = ("path", "virtual", "auto")

# name: (type, default, description), as in settings.ENV_VARIABLES, which includes these.
STORAGE_ENV_VARIABLES: dict[str, tuple[type, object, str]] = {
    "MEDIA_STORAGE": (str, "local", "Where uploads and exports are kept: local or s3."),
    "MEDIA_S3_BUCKET": (str, "", "Bucket for uploads (MEDIA_STORAGE=s3); private, must exist."),
    "MEDIA_S3_ENDPOINT_URL": (str, "", "S3 endpoint, e.g. https://minio.example:9000."),
    "MEDIA_S3_REGION": (str, "us-east-1", "The bucket's region (MinIO's default: us-east-1)."),
    "MEDIA_S3_ACCESS_KEY": (str, "", "Access key; empty: boto3's own (AWS_ACCESS_KEY_ID…)."),
    "MEDIA_S3_SECRET_KEY": (str, "", "Secret key of MEDIA_S3_ACCESS_KEY."),
    "MEDIA_S3_ADDRESSING_STYLE": (str, "path", "path (MinIO), virtual or auto."),
    "MEDIA_S3_PREFIX": (str, "", "Key prefix in the bucket, for a bucket shared with others."),
}

# A file being served is read from the store into a spooled temporary file: kept in memory up to
# this size, on the local temporary disk beyond it, so large exports do not sit in memory.
S3_MAX_MEMORY_SIZE = 2 * 1024 * 1024


def default_storage_config(env: environ.Env) -> dict[str, Any]:
    """``STORAGES["default"]`` from the environment (the variables of ``STORAGE_ENV_VARIABLES``,
    declared in ``env``'s scheme); raises ``ImproperlyConfigured`` naming the variable at fault."""
    kind = env("MEDIA_STORAGE").strip().lower()
    if kind == "local":
        # No location: the storage follows settings.MEDIA_ROOT (and tests that override it).
        return {"BACKEND": LOCAL_BACKEND}
    if kind != "s3":
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE must be one of {', '.join(KINDS)}, not {env('MEDIA_STORAGE')!r}."
        )
    return s3_storage_config(
        bucket=env("MEDIA_S3_BUCKET"),
        endpoint_url=env("MEDIA_S3_ENDPOINT_URL"),
        region=env("MEDIA_S3_REGION"),
        access_key=env("MEDIA_S3_ACCESS_KEY"),
        secret_key=env("MEDIA_S3_SECRET_KEY"),
        addressing_style=env("MEDIA_S3_ADDRESSING_STYLE"),
        prefix=env("MEDIA_S3_PREFIX"),
    )


def s3_storage_config(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "us-east-1",
    access_key: str = "",
    secret_key: str = "",
    addressing_style: str = "path",
    prefix: str = "",
) -> dict[str, Any]:
    """The S3 storage of ``default_storage_config``, from its parts."""
    from botocore.config import Config

    bucket = bucket.strip()
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET, the bucket's name.")
    endpoint_url = endpoint_url.strip()
    if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"MEDIA_S3_ENDPOINT_URL must start with http:// or https://, not {endpoint_url!r}."
        )
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "MEDIA_S3_ACCESS_KEY and MEDIA_S3_SECRET_KEY go together: set both or neither."
        )
    if addressing_style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"MEDIA_S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}, "
            f"not {addressing_style!r}."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region.strip() or None,
        "location": prefix.strip("/ "),
        "client_config": Config(
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            # An unreachable store fails the request in seconds, as the database does, instead
            # of holding a web process for boto3's default minute and five attempts.
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
        # A name already taken gets a suffix, as on local disk; nothing is ever overwritten.
        "file_overwrite": False,
        # No ACL: objects are as private as the bucket. Should a URL of one ever be made, it is
        # signed and expires; none is handed out (the views stream the files).
        "default_acl": None,
        "querystring_auth": True,
        # Stored as opaque bytes, whatever type the browser claimed: the checked type is in the
        # database and sent by the view, and an object read straight from the bucket (an
        # operator's mistake) is a download, never a page.
        "object_parameters": {"ContentType": "application/octet-stream"},
        "max_memory_size": S3_MAX_MEMORY_SIZE,
    }
    if access_key:
        # Otherwise boto3 finds credentials its own way (AWS_ACCESS_KEY_ID, a role).
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
