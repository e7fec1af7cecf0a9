"""Checking and storing uploads (photos from residents, evidence from units).

A file is trusted by its content, never by its name or the browser's content type: images must
open and verify in Pillow as one of the allowed formats, documents must be PDFs. Files are stored
under ``MEDIA_ROOT`` by their hash and served only by a view that checks the user may see the case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .errors import InvalidInput
from .models import Attachment

if TYPE_CHECKING:
    from org.models import User

    from .models import Case, CaseEvent

MAX_ATTACHMENTS = 9
MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PDF_TYPE = "application/pdf"


def _content_type(upload: UploadedFile, *, allow_pdf: bool, field: str) -> str:
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if allow_pdf and head == b"%PDF-":
        return PDF_TYPE
    try:
        with Image.open(upload) as image:
            image_format = image.format or ""
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        # Anything Pillow cannot open and verify is refused, including crafted "bombs" that
        # claim enormous dimensions in a few bytes.
        image_format = ""
    finally:
        upload.seek(0)
    if image_format not in IMAGE_TYPES:
        allowed = "JPEG、PNG、WebP、GIF" + ("、PDF" if allow_pdf else "")
        raise InvalidInput(
            _("文件“%(name)s”不是有效的图片（只接受 %(allowed)s）。")
            % {"name": upload.name, "allowed": allowed},
            fields={field: [_("文件内容与类型不符。")]},
        )
    return IMAGE_TYPES[image_format]


def check_uploads(
    uploads: Sequence[UploadedFile], *, allow_pdf: bool = False, field: str = "attachments"
) -> list[tuple[UploadedFile, str, str]]:
    """Validate every upload before anything is written; returns (file, content type, sha256).
    Errors are reported under ``field``, the name the request used for the files."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(
            _("最多上传 %(max)d 个文件。") % {"max": MAX_ATTACHMENTS},
            fields={field: [_("最多上传 %(max)d 个文件。") % {"max": MAX_ATTACHMENTS}]},
        )
    checked = []
    seen: set[str] = set()
    for upload in uploads:
        if upload.size is None or upload.size > MAX_BYTES:
            message = _("文件“%(name)s”超过 %(mb)d MB。") % {
                "name": upload.name,
                "mb": MAX_BYTES // (1024 * 1024),
            }
            raise InvalidInput(message, fields={field: [message]})
        content_type = _content_type(upload, allow_pdf=allow_pdf, field=field)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        if digest.hexdigest() in seen:  # the same photo chosen twice is kept once
            continue
        seen.add(digest.hexdigest())
        checked.append((upload, content_type, digest.hexdigest()))
    return checked


def store_uploads(
    checked: list[tuple[UploadedFile, str, str]],
    *,
    case: Case,
    event: CaseEvent | None,
    uploaded_by: User | None,
) -> list[Attachment]:
    stored = []
    for upload, content_type, sha256 in checked:
        attachment = Attachment(
            case=case,
            event=event,
            original_name=(upload.name or "file")[-255:],
            content_type=content_type,
            size=upload.size or 0,
            sha256=sha256,
            uploaded_by=uploaded_by,
        )
        attachment.file.save(sha256, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored
