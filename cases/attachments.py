"""Checking and storing uploads (photos from residents, evidence from units).

A file is trusted by its content, never by its name or the browser's content type: images must
open and verify in Pillow as one of the allowed formats, documents must be PDFs. Files are stored
under ``MEDIA_ROOT`` by their hash and served only by a view that checks the user may see the case.

Images are not stored as sent: the server decodes them and writes them again in their format,
with the EXIF orientation applied to the pixels and every other piece of metadata left behind
(EXIF with the GPS position and the camera, XMP, text chunks, comments), as the submit form
already does in the browser for large photos; a client that skips the form gets the same. The
pixel count is checked from the header first (``Image.open`` reads no pixels), so a small file
that claims a huge picture is refused before anything is decoded.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidInput
from .models import Attachment

if TYPE_CHECKING:
    from org.models import User

    from .models import Case, CaseEvent

MAX_ATTACHMENTS = 9
MAX_BYTES = 10 * 1024 * 1024
# 40 megapixels: above any phone camera's photo (a 108 MP sensor saves 12 MP by default), and
# about 160 MB once decoded; an animated image counts every frame.
MAX_PIXELS = 40_000_000
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PDF_TYPE = "application/pdf"


# What Pillow may fail with on a malformed or hostile file.
IMAGE_ERRORS = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    MemoryError,
)


def _not_an_image(upload: UploadedFile, *, allow_pdf: bool, field: str) -> InvalidInput:
    allowed = "JPEG、PNG、WebP、GIF" + ("、PDF" if allow_pdf else "")
    return InvalidInput(
        _("文件“%(name)s”不是有效的图片（只接受 %(allowed)s）。")
        % {"name": upload.name, "allowed": allowed},
        fields={field: [_("文件内容与类型不符。")]},
    )


def _content_type(upload: UploadedFile, *, allow_pdf: bool, field: str) -> str:
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if allow_pdf and head == b"%PDF-":
        return PDF_TYPE
    try:
        with Image.open(upload) as image:
            image_format = image.format or ""
            # The header gives the size without decoding; refuse before anything is decoded.
            pixels = image.width * image.height * getattr(image, "n_frames", 1)
            if pixels > MAX_PIXELS:
                message = _(
                    "图片“%(name)s”太大（%(width)d×%(height)d 像素，最多 %(mp)d 百万像素），"
                    "请换一张较小的图片。"
                ) % {
                    "name": upload.name,
                    "width": image.width,
                    "height": image.height,
                    "mp": MAX_PIXELS // 1_000_000,
                }
                raise InvalidInput(message, fields={field: [message]})
            image.verify()
    except IMAGE_ERRORS:
        # Anything Pillow cannot open and verify is refused, including crafted "bombs" that
        # claim even more pixels than Pillow's own limit in a few bytes.
        image_format = ""
    finally:
        upload.seek(0)
    if image_format not in IMAGE_TYPES:
        raise _not_an_image(upload, allow_pdf=allow_pdf, field=field)
    return IMAGE_TYPES[image_format]


def _rewrite_image(upload: UploadedFile, *, field: str) -> UploadedFile:
    """The image decoded and written again in its own format: orientation applied, no
    metadata. Decoding is also the real check: ``verify`` reads the structure, not the pixels.
    Only the colour profile is kept (it describes the pixels, nobody's whereabouts)."""
    try:
        with Image.open(upload) as image:
            image_format = image.format or ""
            icc_profile = image.info.get("icc_profile")
            frames = getattr(image, "n_frames", 1)
            if image_format == "GIF" or frames > 1:
                data = _rewrite_frames(image, image_format)
            else:
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                data = _encode(upright, image_format, icc_profile=icc_profile)
    except IMAGE_ERRORS:
        raise _not_an_image(upload, allow_pdf=False, field=field) from None
    finally:
        upload.seek(0)
    return SimpleUploadedFile(upload.name or "file", data, content_type=IMAGE_TYPES[image_format])


def _encode(image: Image.Image, image_format: str, *, icc_profile: bytes | None) -> bytes:
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=90, optimize=True)
    elif image_format == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options.update(quality=90)
    elif "transparency" in image.info:
        # A palette's or a PNG's transparent colour lives in the metadata left behind below.
        image = image.convert("RGBA")
    # Pillow writes some of what it read back out (a JPEG's comment, for one): start bare.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _rewrite_frames(image: Image.Image, image_format: str) -> bytes:
    """An animated image (or any GIF) frame by frame, keeping the timing and the loop and
    nothing else (a GIF's comment and application blocks are metadata too)."""
    loop = {"loop": image.info["loop"]} if "loop" in image.info else {}
    frames, durations = [], []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frame = image.convert("RGBA")
        frame.info = {}  # convert() copies the metadata, comments included
        frames.append(frame)
        durations.append(image.info.get("duration", 100))
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        image_format,
        save_all=len(frames) > 1,
        append_images=frames[1:],
        duration=durations if len(frames) > 1 else durations[0],
        **loop,
        disposal=2,
        **({"quality": 90} if image_format == "WEBP" else {}),
    )
    return buffer.getvalue()


def check_uploads(
    uploads: Sequence[UploadedFile], *, allow_pdf: bool = False, field: str = "attachments"
) -> list[tuple[UploadedFile, str, str]]:
    """Validate every upload before anything is written; returns (file, content type, sha256)
    where an image's file is its clean rewrite (see the module's docstring) and the hash is
    that of the file returned. Errors are reported under ``field``, the name the request used
    for the files."""
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
        if content_type != PDF_TYPE:
            upload = _rewrite_image(upload, field=field)
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
