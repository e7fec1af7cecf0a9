"""Uploads: residents' photos and units' evidence are trusted by their content, never their name.

Images are decoded and written again on the server (orientation applied, metadata such as EXIF
GPS dropped, first frame only, at most 4096 pixels on the long side) and refused above a pixel
count read from their headers, per image and per request; what is stored is the clean copy,
named by its own hash. Files are built in memory: images with Pillow, a minimal PDF by
hand, large payloads as bytes. Every test that stores a file points ``MEDIA_ROOT`` at its own
temporary folder.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin
from rest_framework.test import APIClient

from cases import attachments, workflow
from cases.attachments import (
    MAX_ATTACHMENTS,
    MAX_BYTES,
    MAX_PIXELS,
    MAX_REQUEST_PIXELS,
    MAX_SIDE,
    check_uploads,
)
from cases.models import Attachment, Case, CaseEvent, EventType, Status
from tests.conftest import Demo
from xining_issues.errors import InvalidInput

MakeCase = Callable[..., Case]

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def image_bytes(
    image_format: str, color: str | tuple[int, int, int] = "red", size: tuple[int, int] = (16, 12)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, image_format)
    return buffer.getvalue()


def distinct_png(n: int) -> bytes:
    """A PNG whose content differs for each ``n`` (the same content is stored once)."""
    return image_bytes("PNG", (n * 20 % 256, 40, 80))


def png(color: str = "red") -> bytes:
    return image_bytes("PNG", color)


def jpeg(color: str = "blue") -> bytes:
    return image_bytes("JPEG", color)


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    """What a browser sends: a name and a content type the server must not believe."""
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_chunks(header: bytes, pixels: bytes) -> bytes:
    """A PNG file from its IHDR data and its compressed pixels, with correct checksums."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def png_header_only(width: int, height: int) -> bytes:
    """A valid, tiny PNG that claims to be ``width`` × ``height`` pixels (a decompression bomb
    needs no more than its header to exhaust a server that believes it)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return png_chunks(header, zlib.compress(b"\x00" * (width + 1)))


def png_of_size(width: int, height: int, grey: int = 0x80) -> bytes:
    """A valid, fully decodable grey PNG of ``width`` × ``height`` pixels, compressed as PNG
    compresses a flat colour (12000 × 12000 fits in about 140 KB)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes([grey]) * width  # filter byte, then one grey byte per pixel
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png_chunks(struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0), pixels)


GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (36.0, 37.0, 12.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (101.0, 46.0, 3.25),
}


def photo_with_gps(image_format: str = "JPEG", orientation: int = 1) -> bytes:
    """A 40 × 20 photo, left half red and right half blue, as a phone writes it: with the
    place it was taken (EXIF GPS), the camera, and an orientation tag."""
    image = Image.new("RGB", (40, 20), "red")
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    buffer = io.BytesIO()
    image.save(buffer, image_format, exif=exif)
    return buffer.getvalue()


def animated(image_format: str, colors: tuple[str, ...] = ("red", "green", "blue")) -> bytes:
    """An animated image, one 10 × 10 frame per colour, with a comment where the format has one."""
    frames = [Image.new("RGB", (10, 10), c) for c in colors]
    comment = {"comment": b"13909712345"} if image_format == "GIF" else {}
    buffer = io.BytesIO()
    frames[0].save(
        buffer, image_format, save_all=True, append_images=frames[1:], duration=100, loop=0,
        **comment,
    )  # fmt: skip
    return buffer.getvalue()


def mpo_photo(orientation: int = 1) -> bytes:
    """A phone photo as many phones save it, and Pillow reads it, as MPO: a JPEG (the
    ``photo_with_gps`` one, red and blue, with GPS) followed by a second, green image."""
    first = Image.open(io.BytesIO(photo_with_gps("JPEG", orientation)))
    buffer = io.BytesIO()
    first.save(
        buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (40, 20), "green")],
        exif=first.getexif(),
    )  # fmt: skip
    return buffer.getvalue()


def metadata_of(content: bytes) -> dict[str, Any]:
    """What a reader of the stored file learns besides the pixels: the EXIF tags, the GPS
    ones, and the names of the other metadata blocks (text chunks, XMP, comments)."""
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        return {
            "exif": dict(exif),
            "gps": dict(exif.get_ifd(ExifTags.IFD.GPSInfo)),
            "blocks": set(image.info) - HARMLESS_INFO,
        }


# What Pillow reports of any image: the JPEG header's density, a colour profile, animation.
HARMLESS_INFO = {
    "dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density", "icc_profile", "progressive",
    "progression", "adobe", "adobe_transform", "background", "version", "duration", "loop",
    "transparency", "gamma", "srgb", "aspect", "lossless", "mode",
}  # fmt: skip


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def submit_fields(demo: Demo, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": demo.user("resident1"),
        "category": demo.category("heating-cold"),
        "region": demo.region("湟中区", "多巴镇", "多巴一村"),
        "description": "家里暖气不热，附近管道破损。",
        "complainant_name": "赵先生",
        "complainant_phone": "13897123456",
    }
    fields.update(overrides)
    return fields


# --- check_uploads: what is accepted ----------------------------------------------------------


class TestCheckUploads:
    def test_real_png_and_jpeg_pass_with_their_true_type(self) -> None:
        # Given a PNG the browser calls a JPEG, and a JPEG with no useful type at all
        photo_png = png()
        photo_jpeg = jpeg()
        files = [
            upload("IMG_0001.jpg", photo_png, "image/jpeg"),
            upload("pipe", photo_jpeg, "application/octet-stream"),
        ]
        # When they are checked
        checked = check_uploads(files)
        # Then each is typed by its content, and comes back as a clean copy fingerprinted by
        # its own hash, rewound and ready to be stored whole
        assert [(f.name, content_type) for f, content_type, _digest in checked] == [
            ("IMG_0001.jpg", "image/png"),
            ("pipe", "image/jpeg"),
        ]
        for f, content_type, digest in checked:
            content = f.read()
            assert hashlib.sha256(content).hexdigest() == digest
            assert f.size == len(content)
            with Image.open(io.BytesIO(content)) as image:
                assert (image.format, image.size) == (content_type[6:].upper(), (16, 12))

    @pytest.mark.parametrize("image_format", ["WEBP", "GIF"])
    def test_other_allowed_image_formats(self, image_format: str) -> None:
        [(_, content_type, _)] = check_uploads(
            [upload("x", image_bytes(image_format), "application/octet-stream")]
        )
        assert content_type == f"image/{image_format.lower()}"

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            pytest.param("photo.jpg", "家里暖气不热".encode(), id="text-renamed-jpg"),
            pytest.param("photo.png", b"", id="empty"),
            pytest.param("photo.jpg", png()[:40], id="truncated-png"),
            pytest.param("photo.bmp", image_bytes("BMP"), id="bmp-not-allowed"),
            pytest.param("page.html", b"<html><script>alert(1)</script></html>", id="html"),
        ],
    )
    def test_anything_but_an_allowed_image_is_refused(self, name: str, content: bytes) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload(name, content)])
        assert "attachments" in caught.value.fields
        assert name in caught.value.message

    def test_pdf_is_evidence_only(self) -> None:
        # A resident's photo field refuses a PDF
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("report.pdf", PDF, "application/pdf")])
        assert "attachments" in caught.value.fields
        # A unit's evidence accepts it, by content whatever its name
        [(_, content_type, _)] = check_uploads(
            [upload("report.jpg", PDF, "image/jpeg")], allow_pdf=True
        )
        assert content_type == "application/pdf"

    def test_evidence_still_refuses_other_documents(self) -> None:
        with pytest.raises(InvalidInput):
            check_uploads(
                [upload("notes.pdf", b"just some notes", "application/pdf")], allow_pdf=True
            )

    def test_at_most_nine_files(self) -> None:
        nine = [upload(f"{n}.png", distinct_png(n)) for n in range(MAX_ATTACHMENTS)]
        assert len(check_uploads(nine)) == 9
        with pytest.raises(InvalidInput) as caught:
            check_uploads([*nine, upload("10.png", distinct_png(10))])
        assert "attachments" in caught.value.fields

    def test_the_same_photo_chosen_twice_is_kept_once(self) -> None:
        checked = check_uploads([upload("a.png", png()), upload("b.png", png())])
        assert [u.name for u, _type, _hash in checked] == ["a.png"]

    def test_at_most_ten_megabytes_each(self) -> None:
        # Given a real PNG padded (after its end) to exactly 10 MB, and one byte more
        photo = png()
        exactly = photo + b"\x00" * (MAX_BYTES - len(photo))
        assert len(exactly) == 10 * 1024 * 1024
        # Then the first passes and the second is refused for its size
        assert check_uploads([upload("big.png", exactly)])[0][1] == "image/png"
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("too-big.png", exactly + b"\x00")])
        assert "10 MB" in caught.value.message
        assert "attachments" in caught.value.fields

    def test_oversized_non_image_is_refused_for_its_size(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("video.jpg", b"\x00" * (MAX_BYTES + 1))])
        assert "10 MB" in caught.value.message

    def test_decompression_bomb_is_refused_politely(self) -> None:
        # Given a 100-byte PNG that claims 200 million pixels
        bomb = png_header_only(20_000, 10_000)
        assert len(bomb) < 200
        # Then it is refused like any other bad image
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("bomb.png", bomb, "image/png")])
        assert "attachments" in caught.value.fields

    def test_a_real_144_megapixel_png_is_refused_by_its_header(self) -> None:
        # Given a valid 12000 × 12000 PNG of about 140 KB (Pillow only warns below 179 MP)
        bomb = png_of_size(12_000, 12_000)
        assert len(bomb) < 200 * 1024
        # Then it is refused for its pixel count, under the field that sent it
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("huge.png", bomb, "image/png")], field="evidence")
        assert "huge.png" in caught.value.message
        assert "40" in caught.value.message
        assert list(caught.value.fields) == ["evidence"]

    def test_the_pixel_cap_is_forty_megapixels(self) -> None:
        assert MAX_PIXELS == 40_000_000
        # a panorama just under the cap passes, one row more does not
        width = 10_000
        height = MAX_PIXELS // width
        assert check_uploads([upload("ok.png", png_of_size(width, height))])
        with pytest.raises(InvalidInput):
            check_uploads([upload("over.png", png_of_size(width, height + 1))])

    def test_a_webp_is_capped_at_the_stored_size(self) -> None:
        # Given a 20-megapixel WebP of a few kilobytes (Pillow decodes WebP into several
        # full-size copies, and cannot decode it at a reduced scale)
        buffer = io.BytesIO()
        Image.new("RGB", (5000, 4000), "grey").save(buffer, "WEBP")
        # Then it is refused from its header, naming its limit (4096 × 4096, 16 MP)
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("wide.webp", buffer.getvalue())])
        assert "wide.webp" in caught.value.message and "16" in caught.value.message
        assert list(caught.value.fields) == ["attachments"]

    def test_a_png_whose_pixels_do_not_decode_is_refused(self) -> None:
        # Given a PNG whose chunks and checksums are sound but whose compressed pixels are
        # garbled (verify() reads the chunks, not the pixels)
        pixels = zlib.compress(b"\x00" * 401 * 300)
        garbled = pixels[:10] + bytes(b ^ 0x5A for b in pixels[10:40]) + pixels[40:]
        broken = png_chunks(struct.pack(">IIBBBBB", 400, 300, 8, 0, 0, 0, 0), garbled)
        # Then the server, which decodes it to write it again, refuses it
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("broken.png", broken, "image/png")])
        assert "broken.png" in caught.value.message


class TestMetadataIsDropped:
    @pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
    def test_gps_and_camera_are_gone(self, image_format: str) -> None:
        # Given a photo that says where it was taken
        photo = photo_with_gps(image_format)
        assert metadata_of(photo)["gps"]
        # When it is checked
        [(clean, content_type, _digest)] = check_uploads([upload("p", photo)])
        content = clean.read()
        # Then the clean copy says nothing but its pixels
        assert content_type == f"image/{image_format.lower()}"
        assert metadata_of(content) == {"exif": {}, "gps": {}, "blocks": set()}
        assert b"PhoneMaker" not in content
        with Image.open(io.BytesIO(content)) as image:
            assert image.size == (40, 20)

    def test_text_chunks_of_a_png_are_gone(self) -> None:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "拍摄于 36.62N 101.77E，赵先生 13909712345")
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, "PNG", pnginfo=info)
        [(clean, _type, _digest)] = check_uploads([upload("p.png", buffer.getvalue())])
        content = clean.read()
        assert b"13909712345" not in content and metadata_of(content)["blocks"] == set()

    def test_a_jpeg_comment_is_gone(self) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, "JPEG", comment="赵先生 13909712345")
        [(clean, _type, _digest)] = check_uploads([upload("c.jpg", buffer.getvalue())])
        content = clean.read()
        assert b"13909712345" not in content and metadata_of(content)["blocks"] == set()

    def test_a_transparent_png_stays_transparent(self) -> None:
        image = Image.new("P", (8, 8), 1)
        image.putpixel((0, 0), 0)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", transparency=0)
        [(clean, _type, _digest)] = check_uploads([upload("t.png", buffer.getvalue())])
        with Image.open(io.BytesIO(clean.read())) as stored:
            rgba = stored.convert("RGBA")
            assert rgba.getpixel((0, 0))[3] == 0 and rgba.getpixel((1, 1))[3] == 255

    def test_orientation_is_applied_to_the_pixels(self) -> None:
        # Given a photo taken with the phone turned (EXIF orientation 6: rotate 90° clockwise)
        photo = photo_with_gps("JPEG", orientation=6)
        # When it is checked
        [(clean, _type, _digest)] = check_uploads([upload("turned.jpg", photo)])
        # Then the stored pixels stand upright (red on top), with no tag left to turn them again
        with Image.open(io.BytesIO(clean.read())) as image:
            assert image.size == (20, 40)
            assert image.getexif().get(ExifTags.Base.Orientation) is None
            top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
        assert top[0] > 200 and top[2] < 60  # red
        assert bottom[2] > 200 and bottom[0] < 60  # blue

    def test_an_animated_gif_keeps_its_first_frame_only(self) -> None:
        # The rule changed (issue 10's review): animated images used to keep every frame and
        # their timing; walking the frames of a small GIF with thousands of them took the
        # server minutes, and a complaint photo needs no animation. Now the first frame is
        # kept, as a still GIF, and its comment still goes.
        [(clean, content_type, _digest)] = check_uploads([upload("a.gif", animated("GIF"))])
        content = clean.read()
        assert content_type == "image/gif"
        assert b"13909712345" not in content
        with Image.open(io.BytesIO(content)) as image:
            assert (image.format, image.n_frames, image.size) == ("GIF", 1, (10, 10))
            assert image.convert("RGB").getpixel((5, 5)) == (255, 0, 0)  # the first, red


# --- the work per upload is bounded -----------------------------------------------------------


class TestBoundedWork:
    @pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
    def test_an_animated_image_is_stored_as_its_first_frame(self, image_format: str) -> None:
        # Given an animated GIF, WebP or PNG (APNG) of three frames, red then green then blue
        content = animated(image_format)
        with Image.open(io.BytesIO(content)) as sent:
            assert sent.n_frames == 3
        # When it is checked, then it is accepted, still in its format, as one red frame
        [(clean, content_type, _digest)] = check_uploads([upload("a", content)])
        assert content_type == f"image/{image_format.lower()}"
        with Image.open(io.BytesIO(clean.read())) as image:
            assert image.format == image_format
            assert getattr(image, "n_frames", 1) == 1
            red, green, blue = image.convert("RGB").getpixel((5, 5))
        assert red > 200 and green < 60 and blue < 60  # WebP is lossy: nearly (255, 0, 0)

    def test_frames_after_the_first_are_never_read(self) -> None:
        # Given a GIF whose first frame is whole and whose second is cut off in its header
        # (reading it, or counting the frames, fails; counting them means reading them all)
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10), "red").save(buffer, "GIF", loop=0, duration=100)
        cut = buffer.getvalue()[:-1] + b"\x2c\x00\x00"  # no trailer: an image descriptor, cut
        # When it is checked, then its first frame is stored, as if the rest were not there
        [(clean, content_type, _digest)] = check_uploads([upload("cut.gif", cut)])
        assert content_type == "image/gif"
        with Image.open(io.BytesIO(clean.read())) as image:
            assert (image.n_frames, image.size) == (1, (10, 10))

    @pytest.mark.parametrize(
        ("image_format", "size", "stored"),
        [
            pytest.param("JPEG", (6000, 1500), (4096, 1024), id="jpeg-wide"),
            pytest.param("JPEG", (2000, 8200), (999, 4096), id="jpeg-tall-at-a-draft-scale"),
            pytest.param("PNG", (5000, 1000), (4096, 819), id="png"),
            pytest.param("WEBP", (1000, 4200), (975, 4096), id="webp"),
            pytest.param("JPEG", (4096, 3072), (4096, 3072), id="jpeg-at-the-limit-untouched"),
        ],
    )
    def test_the_long_side_is_at_most_4096(
        self, image_format: str, size: tuple[int, int], stored: tuple[int, int]
    ) -> None:
        assert MAX_SIDE == 4096
        # Given an image larger than the limit on its long side, left half red, right half blue
        image = Image.new("RGB", size, "red")
        image.paste((0, 0, 255), (size[0] // 2, 0, *size))
        buffer = io.BytesIO()
        image.save(buffer, image_format)
        # When it is checked, then it is stored scaled down to fit, in its proportions
        [(clean, _type, _digest)] = check_uploads([upload("big", buffer.getvalue())])
        with Image.open(io.BytesIO(clean.read())) as result:
            assert result.size == stored
            rgb = result.convert("RGB")
            left, right = rgb.getpixel((stored[0] // 4, 0)), rgb.getpixel((stored[0] * 3 // 4, 0))
        assert left[0] > 200 and left[2] < 60  # the picture, not just its size, is kept
        assert right[2] > 200 and right[0] < 60

    def test_a_large_turned_photo_is_scaled_and_stands_upright(self) -> None:
        # Given a 6000 × 3000 phone photo, taken turned (orientation 6), with its GPS position
        image = Image.new("RGB", (6000, 3000), "red")
        image.paste((0, 0, 255), (3000, 0, 6000, 3000))
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", exif=exif)
        # When it is checked
        [(clean, _type, _digest)] = check_uploads([upload("turned.jpg", buffer.getvalue())])
        content = clean.read()
        # Then it stands upright (red on top), at most 4096 tall, with no metadata left
        assert metadata_of(content) == {"exif": {}, "gps": {}, "blocks": set()}
        with Image.open(io.BytesIO(content)) as stored:
            assert stored.size == (2048, 4096)
            top, bottom = stored.getpixel((1024, 1000)), stored.getpixel((1024, 3000))
        assert top[0] > 200 and top[2] < 60
        assert bottom[2] > 200 and bottom[0] < 60

    def test_the_request_budget_is_120_megapixels(self) -> None:
        assert MAX_REQUEST_PIXELS == 120_000_000

    def test_the_budget_counts_every_image_of_the_request(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a budget of two 16 × 12 images (the real one is tried through the API below)
        monkeypatch.setattr(attachments, "MAX_REQUEST_PIXELS", 2 * 16 * 12)
        two = [upload("1.png", distinct_png(1)), upload("2.png", distinct_png(2))]
        # Then two images pass, and a PDF beside them costs nothing
        assert len(check_uploads(two)) == 2
        assert len(check_uploads([*two, upload("r.pdf", PDF)], allow_pdf=True)) == 3
        # And a third image is refused, under the field that sent it, naming the limit
        with pytest.raises(InvalidInput) as caught:
            check_uploads([*two, upload("3.png", distinct_png(3))], field="evidence")
        assert list(caught.value.fields) == ["evidence"]
        assert "百万像素" in caught.value.message

    def test_the_budget_is_checked_before_any_image_is_decoded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a request over the budget whose first image would fail to decode
        monkeypatch.setattr(attachments, "MAX_REQUEST_PIXELS", 16 * 12)
        broken = png_header_only(16, 12)  # a sound header, pixels missing
        # Then it is refused for the budget, not for the broken image: nothing was decoded
        with pytest.raises(InvalidInput) as caught:
            check_uploads([upload("broken.png", broken), upload("2.png", distinct_png(2))])
        assert "百万像素" in caught.value.message and "broken.png" not in caught.value.message


class TestMpo:
    def test_an_mpo_phone_photo_is_stored_as_a_plain_jpeg(self) -> None:
        # Given a phone photo Pillow reads as MPO (a JPEG with a second image after it)
        photo = mpo_photo()
        with Image.open(io.BytesIO(photo)) as sent:
            assert (sent.format, sent.n_frames) == ("MPO", 2)
        # When it is checked
        [(clean, content_type, _digest)] = check_uploads([upload("IMG_0007.JPG", photo)])
        content = clean.read()
        # Then it is a JPEG of its first image alone, with no GPS nor any other metadata
        assert content_type == "image/jpeg"
        assert metadata_of(content) == {"exif": {}, "gps": {}, "blocks": set()}
        assert b"PhoneMaker" not in content and b"MPF" not in content
        with Image.open(io.BytesIO(content)) as image:
            assert (image.format, getattr(image, "n_frames", 1), image.size) == (
                "JPEG",
                1,
                (40, 20),
            )
            assert image.getpixel((5, 10))[0] > 200  # red: the first image, not the green one

    def test_an_mpo_keeps_its_orientation_applied(self) -> None:
        [(clean, _type, _digest)] = check_uploads([upload("turned.jpg", mpo_photo(6))])
        with Image.open(io.BytesIO(clean.read())) as image:
            assert image.size == (20, 40)
            top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
        assert top[0] > 200 and top[2] < 60
        assert bottom[2] > 200 and bottom[0] < 60


# --- through the workflow: what is stored -----------------------------------------------------


@pytest.mark.django_db
class TestSubmitWithPhotos:
    def test_photos_are_stored_by_their_hash(self, demo: Demo, media_root: Path) -> None:
        # Given a resident's two photos, one with a name that tries to escape the folder
        photo_png, photo_jpeg = png(), jpeg()
        files = [
            upload("../../etc/赵先生家暖气.png", photo_png, "image/png"),
            upload("管道.jpg", photo_jpeg),
        ]
        # When the complaint is submitted with them
        case = workflow.case_submit(**submit_fields(demo, attachments=files))

        # Then each photo is kept under MEDIA_ROOT, named by its SHA-256, not by its file name
        attachments = list(Attachment.objects.filter(case=case).order_by("id"))
        assert len(attachments) == 2
        submit_event = CaseEvent.objects.get(case=case, type=EventType.SUBMIT)
        for attachment, name, content_type in zip(
            attachments,
            ["赵先生家暖气.png", "管道.jpg"],  # the upload keeps only the base name
            ["image/png", "image/jpeg"],
            strict=True,
        ):
            content = (media_root / attachment.file.name).read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            assert attachment.file.name == f"attachments/{case.pk}/{digest[:2]}/{digest}"
            assert (attachment.sha256, attachment.size) == (digest, len(content))
            with Image.open(io.BytesIO(content)) as image:
                assert image.size == (16, 12)
            assert attachment.content_type == content_type
            assert attachment.original_name == name  # kept for display only
            assert attachment.event == submit_event
            assert attachment.uploaded_by == demo.user("resident1")
        assert stored_files(media_root) == sorted(media_root / a.file.name for a in attachments)
        assert not any("赵先生" in str(p) or "etc" in p.parts for p in stored_files(media_root))

    def test_anonymous_upload_has_no_uploader(self, demo: Demo, media_root: Path) -> None:
        case = workflow.case_submit(
            **submit_fields(demo, actor=None, attachments=[upload("a.png", png())])
        )
        assert Attachment.objects.get(case=case).uploaded_by is None

    @pytest.mark.parametrize(
        ("overrides", "files"),
        [
            pytest.param({"description": ""}, [upload("a.png", png())], id="blank-description"),
            pytest.param({"complainant_phone": "123"}, [upload("a.png", png())], id="bad-phone"),
            pytest.param(
                {},
                [upload("a.png", png()), upload("b.jpg", b"not an image")],
                id="one-bad-file",
            ),
            pytest.param({}, [upload("report.pdf", PDF, "application/pdf")], id="pdf-photo"),
            pytest.param(
                {}, [upload(f"{n}.png", distinct_png(n)) for n in range(10)], id="ten-files"
            ),
            pytest.param({}, [upload("huge.png", png() + b"\x00" * MAX_BYTES)], id="over-10-mb"),
        ],
    )
    def test_refused_submit_stores_nothing(
        self,
        demo: Demo,
        media_root: Path,
        overrides: dict[str, Any],
        files: list[SimpleUploadedFile],
    ) -> None:
        # When a submission is refused, with good or bad files attached
        with pytest.raises(InvalidInput):
            workflow.case_submit(**submit_fields(demo, attachments=files, **overrides))
        # Then no case, no event, no attachment and no file exist
        assert not Case.objects.exists()
        assert not CaseEvent.objects.exists()
        assert not Attachment.objects.exists()
        assert stored_files(media_root) == []


@pytest.mark.django_db
class TestReplyWithEvidence:
    def test_evidence_is_stored_on_the_reply(
        self, demo: Demo, make_case: MakeCase, media_root: Path
    ) -> None:
        case = make_case(Status.HANDLING)
        handler = demo.user("handler_huangzhong")
        photo = jpeg("green")
        # When the unit replies with a photo of the repaired pipe and a signed work order
        workflow.case_reply(
            case=case,
            actor=handler,
            outcome="resolved",
            text="管道已修复，恢复供暖。",
            evidence=[
                upload("修复后.jpg", photo),
                upload("工单.pdf", PDF, "application/pdf"),
            ],
        )
        # Then both are kept with the reply event, typed by content
        reply = CaseEvent.objects.get(case=case, type=EventType.REPLY)
        attachments = list(reply.attachments.order_by("id"))
        assert [(a.content_type, a.uploaded_by, a.case) for a in attachments] == [
            ("image/jpeg", handler, case),
            ("application/pdf", handler, case),
        ]
        with Image.open(media_root / attachments[0].file.name) as stored:
            assert (stored.format, stored.size) == ("JPEG", Image.open(io.BytesIO(photo)).size)
        assert (media_root / attachments[1].file.name).read_bytes() == PDF
        assert attachments[1].file.name.endswith(hashlib.sha256(PDF).hexdigest())

    def test_refused_reply_stores_nothing(
        self, demo: Demo, make_case: MakeCase, media_root: Path
    ) -> None:
        case = make_case(Status.HANDLING)
        events = CaseEvent.objects.filter(case=case).count()
        with pytest.raises(InvalidInput):
            workflow.case_reply(
                case=case,
                actor=demo.user("handler_huangzhong"),
                outcome="resolved",
                text="已修复",
                evidence=[upload("ok.png", png()), upload("fake.pdf", b"%PDX not a pdf")],
            )
        case.refresh_from_db()
        assert case.status == Status.HANDLING
        assert CaseEvent.objects.filter(case=case).count() == events
        assert not Attachment.objects.filter(case=case).exists()
        assert stored_files(media_root) == []


# --- through the API: what a resident's phone sends -------------------------------------------


@pytest.mark.django_db
class TestUploadThroughTheApi:
    def fields(self, demo: Demo, files: list[SimpleUploadedFile]) -> dict[str, Any]:
        return {
            "category": demo.category("heating-cold").pk,
            "region": demo.region("湟中区", "多巴镇", "多巴一村").pk,
            "description": "家里暖气不热，附近管道破损。",
            "complainant_name": "赵先生",
            "complainant_phone": "13897123456",
            "attachments": files,
        }

    def test_a_photo_with_gps_is_stored_without_it(self, demo: Demo, media_root: Path) -> None:
        # When a resident's phone uploads a photo that carries its GPS position
        response = APIClient().post(
            "/api/v1/cases/",
            self.fields(demo, [upload("IMG_2041.jpg", photo_with_gps("JPEG"))]),
            format="multipart",
        )
        # Then the complaint is taken and the stored photo has no position, nor any EXIF
        assert response.status_code == 201, response.json()
        [attachment] = Attachment.objects.filter(case_id=response.json()["id"])
        content = (media_root / attachment.file.name).read_bytes()
        assert metadata_of(content) == {"exif": {}, "gps": {}, "blocks": set()}
        assert b"Exif" not in content

    def test_a_144_megapixel_png_is_a_400_naming_the_field(
        self, demo: Demo, media_root: Path
    ) -> None:
        response = APIClient().post(
            "/api/v1/cases/",
            self.fields(demo, [upload("huge.png", png_of_size(12_000, 12_000), "image/png")]),
            format="multipart",
        )
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["attachments"]
        assert not Case.objects.exists() and stored_files(media_root) == []

    def test_images_over_the_request_budget_are_a_400_naming_the_field(
        self, demo: Demo, media_root: Path
    ) -> None:
        # Given four valid 32-megapixel PNGs: each under the 40 MP cap, 128 MP together
        files = [
            upload(f"{n}.png", png_of_size(8000, 4000, grey=0x40 + n), "image/png")
            for n in range(4)
        ]
        # When a resident sends them with one complaint
        response = APIClient().post("/api/v1/cases/", self.fields(demo, files), format="multipart")
        # Then it is refused, naming the field and the limit, and nothing is kept
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["attachments"]
        assert "120" in response.json()["fields"]["attachments"][0]
        assert not Case.objects.exists() and stored_files(media_root) == []

    def test_an_mpo_phone_photo_is_stored_as_a_jpeg(self, demo: Demo, media_root: Path) -> None:
        response = APIClient().post(
            "/api/v1/cases/",
            self.fields(demo, [upload("IMG_0007.JPG", mpo_photo())]),
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        [attachment] = Attachment.objects.filter(case_id=response.json()["id"])
        assert attachment.content_type == "image/jpeg"
        with Image.open(media_root / attachment.file.name) as stored:
            assert stored.format == "JPEG"

    def test_normal_photos_still_work(self, demo: Demo, media_root: Path) -> None:
        response = APIClient().post(
            "/api/v1/cases/",
            self.fields(demo, [upload("a.png", png()), upload("b.jpg", jpeg())]),
            format="multipart",
        )
        assert response.status_code == 201
        assert Attachment.objects.filter(case_id=response.json()["id"]).count() == 2
