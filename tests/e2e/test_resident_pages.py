"""Residents in a real browser, mostly on a 360-px phone: submit a complaint with photos, get the
tracking code, track it and rate the answer, register and find their cases under 我的诉求.

Every step checks what the page shows (and, where it matters, what the database holds), every
page is checked with axe-core, and each page is photographed at 360 px into var/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from cases import workflow
from cases.models import Case, Category, Rating, Status
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = re.compile(r"^XN-\d{8}-\d{4}$")


@pytest.fixture
def seeded_demo(django_db_setup: None) -> Demo:
    """Transactional tests start from an emptied database: seed the demo organisation again."""
    seed_organisation()
    seed_reference()
    return Demo()


@pytest.fixture(scope="module", autouse=True)
def reseed_after_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Each transactional test ends by emptying the database; put the demo organisation back
    afterwards, so that later modules find what the session set up (tests/conftest.py)."""
    yield
    with django_db_blocker.unblock():
        seed_organisation()
        seed_reference()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def png(path: Path, size: tuple[int, int] = (640, 480), colour: str = "#3a7") -> Path:
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def noisy_png(path: Path, size: tuple[int, int]) -> Path:
    """A photo-sized PNG that does not compress (random pixels): several MB on disk."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "PNG")
    return path


def make_case(demo: Demo, status: str, phone: str = "13897123456", **fields: Any) -> Case:
    """A case in 湟中区多巴一村 walked to ``status`` through the workflow functions."""
    values: dict[str, Any] = {
        "actor": demo.user("resident1"),
        "category": demo.category("heating-cold"),
        "region": demo.region("湟中区", "多巴镇", "多巴一村"),
        "description": "家里暖气不热，附近管道破损。",
        "complainant_name": "赵先生",
        "complainant_phone": phone,
        "address": "新村巷38号",
    }
    values.update(fields)
    case = workflow.case_submit(**values)
    return run_steps(case, PATH_TO[status], demo)


def wait_for_form(page: Any) -> None:
    """The submit form is ready when the categories and the districts have loaded."""
    page.wait_for_selector("#category-list[aria-busy=false]")
    page.wait_for_selector("#id_district option:text('湟中区')", state="attached")


def pick_category(page: Any, search: str, name: str) -> None:
    page.get_by_role("searchbox", name="诉求分类").fill(search)
    page.locator(".xn-category-option:not([hidden])", has_text=name).first.click()


def fill_complaint(page: Any, *, description: str = "家里暖气不热，附近管道破损。") -> None:
    wait_for_form(page)
    pick_category(page, "供暖", "供暖不热")
    page.get_by_label("区（县）").select_option(label="湟中区")
    page.get_by_label("街道（乡镇）").select_option(label="多巴镇")
    page.get_by_label("社区（村）").select_option(label="多巴一村")
    page.get_by_label("详细地址（选填）").fill("新村巷38号")
    page.get_by_label("具体情况").fill(description)
    page.get_by_role("textbox", name="姓名", exact=True).fill("赵先生")
    page.get_by_label("手机号或固定电话").fill("13897123456")
    page.get_by_label("我已阅读并同意以上个人信息保护说明").check()


def photo_names(page: Any) -> list[str]:
    return page.locator("#photo-list .xn-photo-name").all_inner_texts()


def assert_typed_values_kept(page: Any, description: str) -> None:
    assert page.get_by_label("具体情况").input_value() == description
    assert page.get_by_role("textbox", name="姓名", exact=True).input_value() == "赵先生"
    assert page.get_by_label("详细地址（选填）").input_value() == "新村巷38号"
    assert page.locator("#id_region option:checked").inner_text() == "多巴一村"
    assert page.locator("#category-selected").inner_text() == "已选择：供暖 › 供暖不热"
    assert page.get_by_label("我已阅读并同意以上个人信息保护说明").is_checked()


# --- home ---------------------------------------------------------------------------------------


def test_home_says_what_the_service_is_and_lists_recent_results(
    phone_page: Any, live_server: Any, seeded_demo: Demo
) -> None:
    page = phone_page
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "有诉必应马上办"
    assert page.get_by_role("link", name="我要反映").first.is_visible()
    assert page.get_by_role("link", name="查询进度").first.is_visible()
    # The list is fetched after the page loads: wait for it rather than read "加载中…".
    expect(page.locator("#recent")).to_have_text("近期还没有公开的办理结果。")

    make_case(seeded_demo, Status.EVALUATED)
    page.reload()
    recent = page.locator("#recent .xn-recent li")
    recent.first.wait_for()
    text = recent.first.inner_text()
    assert "供暖不热" in text and "湟中区 多巴镇" in text and "管道已修复。" in text
    assert "满意" in text
    # Anonymised: no name, no phone, no house number.
    main = page.locator("main").inner_text()
    assert "赵" not in main and "3456" not in main and "新村巷" not in main
    assert axe_violations(page) == []
    screenshot(page, "resident-home-360")


# --- submit -------------------------------------------------------------------------------------


def test_resident_submits_a_complaint_with_photos_and_gets_a_tracking_code(
    phone_page: Any, live_server: Any, seeded_demo: Demo, media: Path, tmp_path: Path
) -> None:
    page = phone_page
    small = png(tmp_path / "pipe.png")
    large = noisy_png(tmp_path / "street.png", (2000, 1500))
    assert large.stat().st_size > 1.5 * 1024 * 1024

    page.goto(live_server.url + "/submit/")
    wait_for_form(page)
    assert page.locator("h1").inner_text() == "我要反映"
    assert page.locator("#photos-count").inner_text() == "已选 0 / 9 张"
    assert axe_violations(page) == []
    screenshot(page, "resident-submit-360")

    fill_complaint(page)
    assert page.locator("#description-count").inner_text() == "已输入 14 / 2000 字"
    page.locator("#id_photos").set_input_files([str(small), str(large)])
    page.wait_for_function("() => document.querySelectorAll('#photo-list li').length === 2")
    # The large photo was shrunk to a JPEG in the browser before upload.
    assert photo_names(page) == ["pipe.png", "street.jpg"]
    assert page.locator("#photos-count").inner_text() == "已选 2 / 9 张"
    assert page.get_by_role("button", name="删除照片 pipe.png").is_visible()
    screenshot(page, "resident-submit-filled-360")

    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    code = page.locator("#tracking-code").inner_text()
    assert CODE.match(code), code
    assert page.locator("h1").inner_text() == "提交成功"

    case = Case.objects.get(tracking_code=code)
    assert case.status == Status.SUBMITTED
    assert case.category.code == "heating-cold"
    assert case.region.name == "多巴一村" and case.address == "新村巷38号"
    assert case.complainant_phone == "13897123456" and case.hide_identity is False
    attachments = {a.original_name: a for a in case.attachments.all()}
    assert set(attachments) == {"pipe.png", "street.jpg"}
    assert attachments["pipe.png"].content_type == "image/png"
    shrunk = attachments["street.jpg"]
    assert shrunk.content_type == "image/jpeg" and shrunk.size < large.stat().st_size
    with Image.open(shrunk.file.path) as image:
        assert max(image.size) == 1600

    assert axe_violations(page) == []
    screenshot(page, "resident-submit-done-360")

    page.get_by_role("button", name="复制受理编号").click()
    status = page.locator("#copy-status")
    status.wait_for(state="visible")
    if status.inner_text() == "已选中受理编号，请长按或按 Ctrl+C 复制。":  # no clipboard here
        assert page.evaluate("window.getSelection().toString()").strip() == code
    else:
        assert status.inner_text() == "已复制受理编号。"

    # From the confirmation page straight to the tracking page (the digits are remembered).
    page.get_by_role("link", name="查询办理进度").click()
    page.locator("#result-title").wait_for()
    assert page.locator("#result-title").inner_text() == f"受理编号 {code}"
    assert page.locator("#result-facts .xn-status").inner_text() == "待受理"
    assert "您提交了诉求" in page.locator("#timeline").inner_text()


def test_bad_input_is_told_beside_the_field_and_nothing_typed_is_lost(
    phone_page: Any, live_server: Any, seeded_demo: Demo, media: Path, tmp_path: Path
) -> None:
    page = phone_page
    description = "楼道灯坏了两周，晚上看不见台阶。"
    good = png(tmp_path / "good.png")
    ten = [png(tmp_path / f"p{i}.png", (200, 200), "#a52") for i in range(10)]
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + os.urandom(20 * 1024 * 1024))
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a picture", encoding="utf-8")

    page.goto(live_server.url + "/submit/")
    fill_complaint(page, description="")
    page.locator("#id_photos").set_input_files([str(good)])
    page.wait_for_function("() => document.querySelectorAll('#photo-list li').length === 1")

    # An empty description: told beside the field, nothing sent.
    page.get_by_role("button", name="提交诉求").click()
    assert page.locator("[data-form-alert]").inner_text() == "请检查标红的内容。"
    error = page.locator("#err-description")
    assert error.inner_text() == "此项不能为空。"
    description_box = page.get_by_label("具体情况")
    assert description_box.get_attribute("aria-invalid") == "true"
    assert "err-description" in description_box.get_attribute("aria-describedby")
    assert photo_names(page) == ["good.png"]
    assert axe_violations(page) == []
    screenshot(page, "resident-submit-errors-360")
    description_box.fill(description)
    assert error.is_hidden()

    # Ten more photos: nine fit in all, the rest are left out with a message.
    page.locator("#id_photos").set_input_files([str(p) for p in ten])
    page.wait_for_function("() => document.querySelectorAll('#photo-list li').length === 9")
    photos_error = page.locator("#err-attachments")
    assert photos_error.inner_text() == "最多上传 9 张照片，多出的 2 张没有添加。"
    assert photo_names(page)[0] == "good.png"
    assert page.locator("#photos-count").inner_text() == "已选 9 / 9 张"
    assert_typed_values_kept(page, description)

    # Removing photos (by their labelled buttons) until only the first is left.
    for name in [f"p{i}.png" for i in range(8)]:
        page.get_by_role("button", name=f"删除照片 {name}").click()
    assert photo_names(page) == ["good.png"]
    assert page.locator("#photos-status").inner_text() == "已删除照片 p7.png。"

    # A 20 MB file and a text file named .jpg are refused with a clear message.
    page.locator("#id_photos").set_input_files([str(huge)])
    page.wait_for_function("() => !document.getElementById('err-attachments').hidden")
    assert photos_error.inner_text() == "“huge.jpg”超过 10 MB，请换一张较小的照片。"
    page.locator("#id_photos").set_input_files([str(fake)])
    page.wait_for_function(
        "() => document.getElementById('err-attachments').textContent.includes('notes.jpg')"
    )
    assert (
        photos_error.inner_text() == "“notes.jpg”不是有效的图片（只接受 JPEG、PNG、WebP、GIF）。"
    )
    assert photo_names(page) == ["good.png"]
    assert_typed_values_kept(page, description)

    # The API is the authority: a wrong phone number comes back beside the phone field.
    page.get_by_label("手机号或固定电话").fill("12345")
    page.get_by_role("button", name="提交诉求").click()
    phone_error = page.locator("#err-complainant_phone")
    phone_error.wait_for(state="visible")
    assert phone_error.inner_text() == "请填写正确的手机号或固定电话。"
    assert page.locator("[data-form-alert]").inner_text() == "请检查填写的内容。"
    assert page.get_by_label("手机号或固定电话").input_value() == "12345"
    assert photo_names(page) == ["good.png"]
    assert_typed_values_kept(page, description)
    assert page.url == live_server.url + "/submit/"
    assert not Case.objects.filter(description=description).exists()

    # Corrected, it goes through with what was kept.
    page.get_by_label("手机号或固定电话").fill("0971-8123456")
    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    case = Case.objects.get(description=description)
    assert case.description == description and case.complainant_phone == "0971-8123456"
    assert [a.original_name for a in case.attachments.all()] == ["good.png"]


def test_done_page_without_a_code_says_so(phone_page: Any, live_server: Any) -> None:
    phone_page.goto(live_server.url + "/submit/done/?code=<script>")
    assert phone_page.locator("h1").inner_text() == "没有找到受理编号"
    assert phone_page.locator("#tracking-code").count() == 0


# --- track --------------------------------------------------------------------------------------


def test_track_with_a_wrong_code_is_told_and_keeps_the_input(
    phone_page: Any, live_server: Any, seeded_demo: Demo
) -> None:
    page = phone_page
    make_case(seeded_demo, Status.SUBMITTED)
    page.goto(live_server.url + "/track/")
    assert page.locator("h1").inner_text() == "查询进度"

    page.get_by_label("受理编号").fill("XN-20990101-9999")
    page.get_by_label("电话后四位").fill("12")
    page.get_by_role("button", name="查询").click()
    assert page.locator("#err-phone_last4").inner_text() == (
        "请填写提交诉求时所留电话的后四位数字。"
    )

    page.get_by_label("电话后四位").fill("3456")
    page.get_by_role("button", name="查询").click()
    alert = page.locator("#track-form [data-form-alert]")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "没有查到这件诉求。请核对受理编号和电话后四位后重试。"
    assert page.get_by_label("受理编号").input_value() == "XN-20990101-9999"
    assert page.get_by_label("电话后四位").input_value() == "3456"
    assert page.locator("#result").is_hidden()
    assert axe_violations(page) == []
    screenshot(page, "resident-track-not-found-360")


def test_track_says_how_long_a_code_is_locked_after_wrong_digits(
    phone_page: Any, live_server: Any, seeded_demo: Demo
) -> None:
    page = phone_page
    case = make_case(seeded_demo, Status.REPLIED)
    page.goto(f"{live_server.url}/track/?code={case.tracking_code}")
    alert = page.locator("#track-form [data-form-alert]")

    # Given five wrong guesses at the phone's digits, each told "not found"
    page.get_by_label("电话后四位").fill("0000")
    for _ in range(5):
        with page.expect_response(lambda r: "/api/v1/track/" in r.url) as answer:
            page.get_by_role("button", name="查询").click()
        assert answer.value.status == 404
    expect(alert).to_have_text("没有查到这件诉求。请核对受理编号和电话后四位后重试。")

    # When the right digits follow, the code is locked and the page says for how long
    page.get_by_label("电话后四位").fill("3456")
    page.get_by_role("button", name="查询").click()
    expect(alert).to_have_text("这个受理编号查询错误次数过多，已暂停查询，请 15 分钟后再试。")
    assert page.locator("#result").is_hidden()

    # A 429 without the API's message (a proxy's page) gets the page's general words
    page.route(
        "**/api/v1/track/**",
        lambda route: route.fulfill(status=429, content_type="text/html", body="<h1>429</h1>"),
    )
    page.get_by_role("button", name="查询").click()
    expect(alert).to_have_text("查询太频繁或错误次数过多，请稍后再试。")


def test_track_a_replied_case_and_rate_it_satisfied(
    phone_page: Any, live_server: Any, seeded_demo: Demo
) -> None:
    page = phone_page
    case = make_case(seeded_demo, Status.REPLIED)
    assert case.resolve_by is not None

    page.goto(f"{live_server.url}/track/?code={case.tracking_code}")
    assert page.get_by_label("受理编号").input_value() == case.tracking_code
    page.get_by_label("电话后四位").fill("3456")
    page.get_by_role("button", name="查询").click()

    page.locator("#result-title").wait_for()
    assert page.locator("#result-title").inner_text() == f"受理编号 {case.tracking_code}"
    facts = page.locator("#result-facts").inner_text()
    assert "待评价" in facts and "供暖不热" in facts and "湟中区 多巴镇" in facts
    assert "管道已修复。" in facts
    deadline = page.locator("#result-facts dt:text('办理时限') + dd").inner_text()
    assert re.match(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$", deadline), deadline
    timeline = page.locator("#timeline").inner_text()
    for line in ["您提交了诉求", "诉求已受理", "已转交承办单位", "承办单位已答复", "管道已修复。"]:
        assert line in timeline
    assert "赵" not in page.locator("main").inner_text()
    assert page.locator("#evaluate-section").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "resident-track-360")

    # Sending without a choice is told; then 满意 with a comment.
    page.get_by_role("button", name="提交评价").click()
    assert page.locator("#err-rating").inner_text() == "请选择您的评价。"
    page.locator("label[for=rating-satisfied]").click()
    page.get_by_label("意见或建议（选填）").fill("修得很快，谢谢！")
    page.get_by_role("button", name="提交评价").click()

    notice = page.locator("#result-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "感谢您的评价！诉求当前状态：已评价。"
    assert page.locator("#result-facts .xn-status").inner_text() == "已评价"
    assert "满意" in page.locator("#result-facts dt:text('您的评价') + dd").inner_text()
    assert page.locator("#evaluate-section").is_hidden()
    assert "您已评价" in page.locator("#timeline").inner_text()
    case.refresh_from_db()
    assert case.status == Status.EVALUATED and case.rating == Rating.SATISFIED
    assert axe_violations(page) == []
    screenshot(page, "resident-track-rated-360")


# --- register and my cases ----------------------------------------------------------------------


def test_register_then_my_cases_is_empty_then_lists_a_new_complaint(
    phone_page: Any, live_server: Any, seeded_demo: Demo, media: Path
) -> None:
    page = phone_page
    page.goto(live_server.url + "/accounts/register/")
    assert page.locator("h1").inner_text() == "注册居民账号"
    assert axe_violations(page) == []
    screenshot(page, "resident-register-360")

    page.get_by_label("用户名").fill("li_nvshi")
    page.locator("#id_password").fill("Lnvshi-Kx82")
    page.get_by_label("再次输入密码").fill("Lnvshi-Kx83")
    page.get_by_label("称呼（选填）").fill("李女士")
    page.get_by_label("手机号（选填）").fill("13997001234")
    page.get_by_role("button", name="注册").click()
    assert page.locator("#err-password2").inner_text() == "两次输入的密码不一致。"
    assert page.get_by_label("用户名").input_value() == "li_nvshi"

    page.get_by_label("再次输入密码").fill("Lnvshi-Kx82")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(live_server.url + "/my/")
    assert page.locator("h1").inner_text() == "我的诉求"
    empty = page.locator("#my-cases .xn-empty")
    empty.wait_for()
    assert "您还没有反映过诉求。" in empty.inner_text()
    assert page.locator("#load-more").is_hidden()
    assert axe_violations(page) == []
    screenshot(page, "resident-my-cases-empty-360")

    # A signed-in resident's name and phone are filled in on the form.
    page.locator("#my-cases").get_by_role("link", name="反映第一件诉求").click()
    page.wait_for_url(live_server.url + "/submit/")
    assert page.get_by_role("textbox", name="姓名", exact=True).input_value() == "李女士"
    assert page.get_by_label("手机号或固定电话").input_value() == "13997001234"
    wait_for_form(page)
    # The category picker by keyboard: type, Enter picks the only match.
    search = page.get_by_role("searchbox", name="诉求分类")
    search.fill("噪音")
    search.press("Enter")
    assert page.locator("#category-selected").inner_text() == "已选择：噪音"
    assert (
        page.evaluate("document.activeElement.id")
        == f"category-{Category.objects.get(code='noise').pk}"
    )
    page.get_by_label("区（县）").select_option(label="城东区")
    page.get_by_label("街道（乡镇）").select_option(label="大众街街道")
    page.get_by_label("社区（村）").select_option(label="康西社区")
    page.get_by_label("具体情况").fill("楼下商铺晚上十一点后仍然很吵。")
    page.get_by_label("对承办单位保密我的姓名和电话").check()
    page.get_by_label("我已阅读并同意以上个人信息保护说明").check()
    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    code = page.locator("#tracking-code").inner_text()
    case = Case.objects.get(tracking_code=code)
    assert case.complainant.username == "li_nvshi" and case.hide_identity is True

    page.get_by_role("link", name="我的诉求").last.click()
    page.wait_for_url(live_server.url + "/my/")
    row = page.locator("#my-cases .xn-cases li")
    row.first.wait_for()
    assert row.count() == 1
    text = row.first.inner_text()
    assert (
        code in text
        and "待受理" in text
        and "噪音" in text
        and "城东区 大众街街道 康西社区" in text
    )
    assert re.search(r"提交于 \d{4}/\d{2}/\d{2}", text)
    assert axe_violations(page) == []
    screenshot(page, "resident-my-cases-360")

    page.get_by_role("link", name=f"查看进度 {code}").click()
    page.locator("#result-title").wait_for()
    assert page.locator("#result-title").inner_text() == f"受理编号 {code}"


def test_my_cases_loads_more_with_the_cursor(
    page: Any, live_server: Any, seeded_demo: Demo
) -> None:
    resident = seeded_demo.user("resident1")
    for number in range(27):
        make_case(seeded_demo, Status.SUBMITTED, actor=resident, title=f"第 {number + 1} 件")
    sign_in(page, live_server.url, "resident1")
    page.goto(live_server.url + "/my/")
    rows = page.locator("#my-cases .xn-cases > li")
    rows.first.wait_for()
    assert rows.count() == 25
    assert rows.first.locator("h2").inner_text() == "第 27 件"
    page.get_by_role("button", name="加载更多").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#my-cases .xn-cases > li').length === 27"
    )
    assert rows.last.locator("h2").inner_text() == "第 1 件"
    assert page.locator("#load-more").is_hidden()
    assert page.locator("#my-cases-count").inner_text() == "共显示 27 件"


def test_pages_pass_axe_at_desktop_width(page: Any, live_server: Any, seeded_demo: Demo) -> None:
    """At 1280 px the navigation bar is open: its links must keep AA contrast too."""
    for path, heading in [
        ("/", "有诉必应马上办"),
        ("/submit/", "我要反映"),
        ("/track/", "查询进度"),
        ("/accounts/register/", "注册居民账号"),
    ]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == heading
        assert axe_violations(page) == [], path
