"""The one de-identification function: personal data typed into free text is masked, the facts
around it (codes, dates, amounts, counts, house numbers) are left as they were."""

from __future__ import annotations

import random
import re

import pytest

from xining_issues.privacy import mask_name, mask_phone, mask_text

# --- the fields themselves --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张**"), ("赵先生", "赵**"), ("李", "李*"), ("欧阳修", "欧**"), ("", "")],
)
def test_mask_name_keeps_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("0971-6123456", "097****3456"), ("612345", "****2345")],
)
def test_mask_phone_keeps_the_ends(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_the_old_import_path_still_works() -> None:
    # Given code written before the kernel module (cases.sms, serializers)
    from cases import selectors

    # Then it reaches the same functions
    assert selectors.mask_name is mask_name
    assert selectors.mask_phone is mask_phone


# --- free text --------------------------------------------------------------------------------


def test_the_reply_from_the_probe_is_masked() -> None:
    # Given the reply the privacy probe found published verbatim
    text = "已答复赵先生（13912345678，身份证630102199001011234）"
    # When it is masked for a reader without the need, knowing the complainant's name
    masked = mask_text(text, names=["赵先生"])
    # Then the name, the mobile and the ID number are gone, the sentence still reads
    assert masked == "已答复赵**（139****5678，身份证6301**********1234）"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("电话13912345678", "电话139****5678", id="mobile"),
        pytest.param("电话 139 1234 5678。", "电话 139****5678。", id="mobile-spaces"),
        pytest.param("电话139-1234-5678", "电话139****5678", id="mobile-dashes"),
        pytest.param("电话+86 139 1234 5678", "电话139****5678", id="mobile-plus86"),
        pytest.param("电话+8613912345678", "电话139****5678", id="mobile-plus86-tight"),
        pytest.param("电话0086-13912345678", "电话139****5678", id="mobile-0086"),
        pytest.param("电话(+86)13912345678", "电话139****5678", id="mobile-parens"),
        pytest.param("Tel:15809711234", "Tel:158****1234", id="mobile-after-latin"),
        pytest.param("座机0971-6123456", "座机097****3456", id="landline"),
        pytest.param("座机0971 6123456", "座机097****3456", id="landline-space"),
        pytest.param("座机（0971）6123456", "座机097****3456", id="landline-cn-parens"),
        pytest.param("座机(010)12345678", "座机010****5678", id="landline-parens"),
        pytest.param("座机09716123456", "座机097****3456", id="landline-tight"),
        pytest.param("身份证63010219900101123X", "身份证6301**********123X", id="id-X"),
        pytest.param("身份证63010219900101123x号", "身份证6301**********123x号", id="id-x"),
        pytest.param("身份证630102 19900101 1234", "身份证6301**********1234", id="id-spaced"),
        pytest.param("老身份证630102900101123", "老身份证6301*******1123", id="id-15"),
        pytest.param("卡号6222021234567890", "卡号6222********7890", id="card-16"),
        pytest.param("卡号6222021234567890123", "卡号6222***********0123", id="card-19"),
        pytest.param("卡号6222 0212 3456 7890", "卡号6222********7890", id="card-spaced"),
        pytest.param("卡号6222-0212-3456-7890-123", "卡号6222***********0123", id="card-dashed"),
        pytest.param("邮箱zhao.jianguo@163.com。", "邮箱z***@163.com。", id="email"),
        pytest.param("Mail: Zhao_1990+x@mail.qh.gov.cn", "Mail: Z***@mail.qh.gov.cn", id="email2"),
    ],
)
def test_numbers_and_addresses_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "mention",
    [
        "赵建国",
        "赵先生",
        "赵女士",
        "赵师傅",
        "赵阿姨",
        "赵大爷",
        "赵大妈",
        "赵老师",
        "赵小姐",
    ],
)
def test_the_complainant_and_their_surname_forms_are_masked(mention: str) -> None:
    # Given a case raised by 赵建国
    text = f"已联系{mention}，说明情况。"
    # Then any way of naming them keeps only the surname
    masked = mask_text(text, names=["赵建国"])
    assert masked == f"已联系{mask_name(mention)}，说明情况。"
    assert mention not in masked


def test_a_name_given_with_its_honorific_also_masks_the_other_forms() -> None:
    assert mask_text("赵先生、赵女士均已回访", names=["赵先生"]) == "赵**、赵**均已回访"


def test_a_compound_surname_is_kept_whole() -> None:
    assert mask_text("欧阳先生来电", names=["欧阳修"]) == "欧***来电"
    assert mask_text("欧阳修来电", names=["欧阳修"]) == "欧**来电"


def test_other_people_are_not_the_complainant() -> None:
    # A different surname, and a name not given, are left alone
    text = "王师傅已上门，马派单已派单。"
    assert mask_text(text, names=["赵建国"]) == text


@pytest.mark.parametrize("name", ["", " ", "匿名", "赵"])
def test_empty_or_placeholder_names_do_not_mask_ordinary_words(name: str) -> None:
    text = "匿名反映：赵家庄供暖不热，赵庄路面破损。"
    assert mask_text(text, names=[name]) == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("受理编号 XN-20231019-0001，请凭编号查询。", id="tracking-code"),
        pytest.param("XN-20231019-13912", id="tracking-code-long-serial"),
        pytest.param("2023-10-19 13:45 派单，2023年10月19日办结。", id="dates"),
        pytest.param("20231019、2023/10/19、2023.10.19", id="compact-dates"),
        pytest.param("补发2022年取暖补贴559,300元，2023年1,212,900元。", id="amounts"),
        pytest.param("累计补贴1212900元、15000.50元。", id="plain-amounts"),
        pytest.param("东府嘉和3242户中650户已办证，共46个小区40,489户。", id="households"),
        pytest.param("湟中区多巴镇多巴一村新村巷38号，3单元1302室。", id="house-number"),
        pytest.param("拨打12345热线或0971-12345转人工。", id="hotline"),
        pytest.param("邮编810000，第15项措施，7个方面，47项事项。", id="small-numbers"),
        pytest.param("1,680名社区干部100%体检。", id="percent"),
        pytest.param("工单号 202310190001 已关闭。", id="twelve-digit-order-number"),
        pytest.param("发票号 12345678901234567890123 作废。", id="very-long-number"),
        pytest.param("", id="empty"),
    ],
)
def test_facts_that_are_not_personal_stay(text: str) -> None:
    assert mask_text(text, names=["赵建国"]) == text


def test_masking_twice_changes_nothing_more() -> None:
    text = "赵先生13912345678，0971-6123456，630102199001011234，a.b@qq.com"
    once = mask_text(text, names=["赵先生"])
    assert mask_text(once, names=["赵先生"]) == once


# --- property: a known number never survives, whatever surrounds it ----------------------------

FILLERS = [
    "家里暖气不热",
    "于2023-10-19上午",
    "补贴559,300元",
    "受理编号XN-20231019-0001的",
    "共3242户",
    "新村巷38号",
    "办结率100%",
    "请于3个工作日内",
    "拨打12345热线",
    "管道已修复",
    "补贴1,212,900元",
    "第15项",
]
SEPARATORS = ["", "，", "：", " ", "（", "）", "。", "、", "\n"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _grouped(rng: random.Random, digits: str, groups: list[int]) -> str:
    """``digits`` written as a person might: tight, or split in ``groups`` by spaces or dashes."""
    separator = rng.choice(["", "", " ", "-"])
    if not separator:
        return digits
    parts, start = [], 0
    for size in groups:
        parts.append(digits[start : start + size])
        start += size
    return separator.join(parts)


def _mobile(rng: random.Random) -> tuple[str, str]:
    core = "1" + rng.choice("3456789") + _digits(rng, 9)
    prefix = rng.choice(["", "", "+86", "+86 ", "0086-", "(+86)"])
    return prefix + _grouped(rng, core, [3, 4, 4]), core


def _landline(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(["0971", "010", "021", "0972"])
    local = rng.choice("2345678") + _digits(rng, rng.choice([6, 7]))
    written = rng.choice([f"{area}-{local}", f"{area} {local}", f"({area}){local}", area + local])
    return written, area + local


def _id_number(rng: random.Random) -> tuple[str, str]:
    birth = f"{rng.randint(1930, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    core = "63" + _digits(rng, 4) + birth + _digits(rng, 3) + rng.choice("0123456789Xx")
    return _grouped(rng, core, [6, 8, 4]), core


def _bank_card(rng: random.Random) -> tuple[str, str]:
    core = "62" + _digits(rng, rng.choice([14, 15, 16, 17]))
    return _grouped(rng, core, [4, 4, 4, 4, 3]), core


def _email(rng: random.Random) -> tuple[str, str]:
    local = rng.choice(["zhao", "li.ming", "wang_1990", "x"]) + _digits(rng, rng.randint(0, 4))
    address = f"{local}@{rng.choice(['163.com', 'qq.com', 'xining.gov.cn'])}"
    return address, address


MAKERS = [_mobile, _landline, _id_number, _bank_card, _email]


@pytest.mark.parametrize("seed", range(300))
def test_property_known_numbers_never_survive_and_the_rest_does(seed: int) -> None:
    rng = random.Random(seed)
    # Given a text of ordinary phrases with personal numbers written in any usual way
    pieces: list[str] = []
    secrets: list[str] = []
    fillers: list[str] = []
    for _ in range(rng.randint(1, 6)):
        filler = rng.choice(FILLERS)
        written, core = rng.choice(MAKERS)(rng)
        pieces += [filler, rng.choice(SEPARATORS), written, rng.choice(SEPARATORS)]
        secrets.append(core)
        fillers.append(filler)
    text = "".join(pieces)
    # When it is masked
    masked = mask_text(text, names=["赵建国"])
    # Then no number can be read back whole, even with the separators taken out
    squeezed = re.sub(r"[\s\-+()（）]", "", masked)
    for core in secrets:
        if "@" in core:
            assert core not in masked, (text, masked)
        else:
            assert core not in squeezed, (text, masked)
    # and every ordinary phrase is still there as written
    for filler in fillers:
        assert filler in masked, (text, masked)
