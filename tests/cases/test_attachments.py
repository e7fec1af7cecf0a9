"""Uploads: residents' photos and units' evidence are trusted by their content, never their name.

Files are built in memory: images with Pillow, a minimal PDF by hand, large payloads as bytes.
Every test that stores a file points ``MEDIA_ROOT`` at its own temporary folder.
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
from PIL import Image

from cases import workflow
from cases.attachments import MAX_ATTACHMENTS, MAX_BYTES, check_uploads
from cases.errors import InvalidInput
from cases.models import Attachment, Case, CaseEvent, EventType, Status
from tests.conftest import Demo

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


def png_header_only(width: int, height: int) -> bytes:
    """A valid, tiny PNG that claims to be ``width`` × ``height`` pixels (a decompression bomb
    needs no more than its header to exhaust a server that believes it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
        + chunk(b"IEND", b"")
    )


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
        # Then each is typed by its content and fingerprinted
        assert [(f.name, content_type, digest) for f, content_type, digest in checked] == [
            ("IMG_0001.jpg", "image/png", hashlib.sha256(photo_png).hexdigest()),
            ("pipe", "image/jpeg", hashlib.sha256(photo_jpeg).hexdigest()),
        ]
        # and each file is rewound, ready to be stored whole
        assert all(
            f.read() == content for f, content in zip(files, [photo_png, photo_jpeg], strict=True)
        )

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
        for attachment, content, name, content_type in zip(
            attachments,
            [photo_png, photo_jpeg],
            ["赵先生家暖气.png", "管道.jpg"],  # the upload keeps only the base name
            ["image/png", "image/jpeg"],
            strict=True,
        ):
            digest = hashlib.sha256(content).hexdigest()
            assert attachment.file.name == f"attachments/{case.pk}/{digest[:2]}/{digest}"
            path = media_root / attachment.file.name
            assert path.read_bytes() == content
            assert (attachment.sha256, attachment.size) == (digest, len(content))
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
        assert (media_root / attachments[0].file.name).read_bytes() == photo
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
