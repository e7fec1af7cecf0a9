"""Checking and storing uploads (photos from residents, evidence from units).

A file is trusted by its content, never by its name or the browser's content type: images must
open and verify in Pillow as one of the allowed formats, documents must be PDFs. Files are stored
by their hash in the default storage (``MEDIA_ROOT`` or the object store, see
``xining_issues.storage``), only after every check has passed, and served only by a view that
checks the user may see the case.

Images are not stored as sent: the server decodes them and writes them again in their format,
with the EXIF orientation applied to the pixels and every other piece of metadata left behind
(EXIF with the GPS position and the camera, XMP, text chunks, comments), as the submit form
already does in the browser for large photos; a client that skips the form gets the same.

The work per upload is bounded before and during decoding, since a few kilobytes can describe a
picture that takes seconds and hundreds of megabytes to decode:

* Every size comes from the headers (``Image.open`` reads no pixels) before anything is decoded:
  at most ``MAX_PIXELS`` per image (less for WebP, see ``MAX_PIXELS_BY_FORMAT``), and
  ``MAX_REQUEST_PIXELS`` for all the images of a request.
* Only the first frame of an animated image (GIF, WebP, APNG) is read and kept: a complaint
  photo or a piece of evidence needs no animation, and walking thousands of frames (or merely
  counting them, which for a GIF means reading the whole file) costs far more than the upload.
  Nothing is refused for being animated; it is stored as a still image.
* Images are downscaled while decoding to at most ``MAX_SIDE`` pixels on their long side: a
  JPEG is decoded at a reduced scale (``Image.draft``), others are resized after decoding.
* A phone photo that Pillow reads as MPO (a JPEG carrying a second, preview or depth image) is a
  JPEG: its first image is stored as a plain JPEG.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from xining_issues.errors import InvalidInput

from .models import Attachment

if TYPE_CHECKING:
    from org.models import User

    from .models import Case, CaseEvent

MAX_ATTACHMENTS = 9
MAX_BYTES = 10 * 1024 * 1024
# 40 megapixels: above any phone camera's photo (a 108 MP sensor saves 12 MP by default), and
# about 160 MB once decoded; an animated image counts its first frame, the only one read.
MAX_PIXELS = 40_000_000
# Pillow decodes a WebP through libwebp's animation decoder, into about four full-size copies
# (some 15 bytes a pixel: 600 MB at 40 MP) and with no reduced-scale decoding. Phones save
# their photos as JPEG (or HEIC, which is not accepted); a WebP is a screenshot or a web
# image, which needs no more than the stored size (MAX_SIDE squared, about 16.8 MP).
MAX_PIXELS_BY_FORMAT = {"WEBP": 4096 * 4096}
# What one request may ask the server to decode: nine 12 MP phone photos (108 MP) pass, so do
# three images at the cap above. It bounds a request's CPU time and memory as MAX_BYTES bounds
# its size, whatever the formats.
MAX_REQUEST_PIXELS = 120_000_000
# The long side of a stored image: enough to read a meter or a licence plate, and a fraction of
# the pixels of a full-size photo to decode and to serve again.
MAX_SIDE = 4096
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Formats Pillow names apart that are stored as one of IMAGE_TYPES.
FORMAT_ALIASES = {"MPO": "JPEG"}
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
    struct.error,  # a GIF cut off in a frame's header, for one
)


def _not_an_image(upload: UploadedFile, *, allow_pdf: bool, field: str) -> InvalidInput:
    allowed = "JPEG、PNG、WebP、GIF" + ("、PDF" if allow_pdf else "")
    return InvalidInput(
        _("文件“%(name)s”不是有效的图片（只接受 %(allowed)s）。")
        % {"name": upload.name, "allowed": allowed},
        fields={field: [_("文件内容与类型不符。")]},
    )


def _content_type(upload: UploadedFile, *, allow_pdf: bool, field: str) -> tuple[str, int]:
    """The upload's content type and, for an image, its first frame's pixel count, both read
    from the header: no pixel is decoded here."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if allow_pdf and head == b"%PDF-":
        return PDF_TYPE, 0
    pixels = 0
    try:
        with Image.open(upload) as image:
            image_format = FORMAT_ALIASES.get(image.format or "", image.format or "")
            # The header gives the size without decoding; refuse before anything is decoded.
            # Not ``n_frames``: a GIF's frames are counted by reading the whole file.
            pixels = image.width * image.height
            max_pixels = MAX_PIXELS_BY_FORMAT.get(image_format, MAX_PIXELS)
            if pixels > max_pixels:
                message = _(
                    "图片“%(name)s”太大（%(width)d×%(height)d 像素，最多 %(mp)d 百万像素），"
                    "请换一张较小的图片。"
                ) % {
                    "name": upload.name,
                    "width": image.width,
                    "height": image.height,
                    "mp": max_pixels // 1_000_000,
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
    return IMAGE_TYPES[image_format], pixels


def _rewrite_image(upload: UploadedFile, *, field: str) -> UploadedFile:
    """The image's first frame decoded, at most ``MAX_SIDE`` on its long side, and written
    again in its own format: orientation applied, no metadata. Decoding is also the real check:
    ``verify`` reads the structure, not the pixels. Only the colour profile is kept (it
    describes the pixels, nobody's whereabouts)."""
    try:
        with Image.open(upload) as image:
            image_format = FORMAT_ALIASES.get(image.format or "", image.format or "")
            icc_profile = image.info.get("icc_profile")
            image.seek(0)  # the first frame, the only one read (see the module's docstring)
            box = _fit(image.size)
            if image_format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the box: the JPEG
                # decoder then does a fraction of the work, and thumbnail() the rest.
                image.draft(None, box)
            image.load()
            if image.size != box:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            # Turned after resizing, on fewer pixels; in place, not on a copy.
            ImageOps.exif_transpose(image, in_place=True)
            data = _encode(image, image_format, icc_profile=icc_profile)
    except IMAGE_ERRORS:
        raise _not_an_image(upload, allow_pdf=False, field=field) from None
    finally:
        upload.seek(0)
    return SimpleUploadedFile(upload.name or "file", data, content_type=IMAGE_TYPES[image_format])


def _fit(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down to fit ``MAX_SIDE`` on its long side (as ``thumbnail`` does)."""
    width, height = size
    if max(width, height) <= MAX_SIDE:
        return size
    scale = MAX_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


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
    # Pillow writes some of what it read back out (a JPEG's comment, a GIF's loop and
    # duration, for some): start bare.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
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
    # Every file is typed and sized from its header before any is decoded, so a request over
    # the budget costs the server a few header reads.
    typed = []
    for upload in uploads:
        if upload.size is None or upload.size > MAX_BYTES:
            message = _("文件“%(name)s”超过 %(mb)d MB。") % {
                "name": upload.name,
                "mb": MAX_BYTES // (1024 * 1024),
            }
            raise InvalidInput(message, fields={field: [message]})
        typed.append((upload, *_content_type(upload, allow_pdf=allow_pdf, field=field)))
    total = sum(pixels for _upload, _type, pixels in typed)
    if total > MAX_REQUEST_PIXELS:
        message = _(
            "这些图片合计 %(total)d 百万像素，一次最多 %(max)d 百万像素，"
            "请少传几张或换成较小的图片。"
        ) % {"total": -(-total // 1_000_000), "max": MAX_REQUEST_PIXELS // 1_000_000}
        raise InvalidInput(message, fields={field: [message]})
    checked = []
    seen: set[str] = set()
    for upload, content_type, _pixels in typed:
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
