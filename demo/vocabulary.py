"""What the demo's residents and staff write, and how a city's cases are weighted: the one
vocabulary of the demo data, shared by the year of cases (``demo.history``) and the synthetic city
of the benchmark (``demo.city`` and the SQL of ``demo.city_sql``).

What residents say about each category, and how the categories are weighted, lives with the
categories in ``demo.catalogue``: ``compose`` writes a complaint for a category, ``TEMPLATES`` is a
fixed sample of those for the benchmark's SQL, ``GROUPS`` and ``MEMBERS`` weigh the top-level
groups and their members. This module holds the rest: places, people, channels, replies, notes.

Keys that are choice values (channels, outcomes, ratings, reject reasons) are the enums
themselves; they hash and compare as their strings, so dictionaries and JSON are unchanged.
"""

from __future__ import annotations

import datetime as dt

from cases.models import Channel, Outcome, Rating, RejectReason

# Population weights of the districts/counties (by name).
DISTRICT_WEIGHTS = {
    "城东区": 0.19,
    "城中区": 0.17,
    "城西区": 0.17,
    "城北区": 0.18,
    "湟中区": 0.13,
    "大通回族土族自治县": 0.10,
    "湟源县": 0.06,
}
# Rough centres (lat, lng) for map pins.
DISTRICT_CENTRES = {
    "chengdong": (36.612, 101.805),
    "chengzhong": (36.605, 101.780),
    "chengxi": (36.630, 101.748),
    "chengbei": (36.668, 101.765),
    "huangzhong": (36.500, 101.572),
    "datong": (36.930, 101.685),
    "huangyuan": (36.682, 101.256),
}


def heating_weight(day: dt.date) -> float:
    """Xining heats from 15 October to 15 April; complaints peak at the start and in the cold."""
    month, dom = day.month, day.day
    if month == 10:
        return 0.55 if dom >= 15 else 0.03
    if month == 4:
        return 0.30 if dom <= 15 else 0.04
    return {11: 1.35, 12: 1.25, 1: 1.25, 2: 0.95, 3: 0.60}.get(month, 0.02)


HOUR_WEIGHTS = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.4, 3.2, 3.3, 3.0,
    2.2, 2.0, 2.6, 2.9, 2.8, 2.4, 1.8, 1.7, 1.6, 1.3, 0.9, 0.5,
]  # fmt: skip
CHANNELS = [
    (Channel.PHONE, 0.55),
    (Channel.WEB, 0.12),
    (Channel.MINI_PROGRAM, 0.16),
    (Channel.WALK_IN, 0.05),
    (Channel.GRID, 0.12),
]
CHANNEL_NAMES = [c for c, _w in CHANNELS]
CHANNEL_CUM = [sum(w for _c, w in CHANNELS[: i + 1]) for i in range(len(CHANNELS))]

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨赵赵马马马韩韩祁冶鲁黄周吴徐孙朱胡郭何林罗高谢"
    "苏石乔汪曹彭魏朵沈蒲安童祝"
)
MOBILE_PREFIXES = [
    "139", "138", "137", "136", "135", "134", "150", "151", "152", "157", "158", "159", "182",
    "183", "184", "187", "188", "178", "130", "131", "132", "155", "156", "185", "186", "176",
    "133", "153", "180", "181", "189", "177", "199", "191", "166", "173", "139", "138", "187",
]  # fmt: skip
COMPOUNDS = [
    "阳光花园", "康乐小区", "夏都府邸", "海湖新城", "青藏花园", "东府嘉和", "中房·锦苑",
    "金座·晶座", "国际村", "民和小区", "香格里拉", "虎台新村", "景岳公馆", "兴旺小区",
]  # fmt: skip

REPLIES: dict[str, dict[str, list[str]]] = {
    "heating": {
        Outcome.RESOLVED: [
            "已安排维修人员上门排查，更换损坏阀门并放气，室温已恢复到18度以上。",
            "经查为附近管道破损，已联系燃气公司抢修，当天修复，已恢复供暖。",
            "已对楼栋管网进行冲洗调压，复测室温达标，诉求人认可。",
        ],
        Outcome.PARTLY: ["已对户内管线进行清洗，室温有所提升，楼栋管网改造已列入明年计划。"],
        Outcome.EXPLAINED: ["经测温室温符合标准，已向诉求人解释供暖温度标准及测温方法。"],
    },
    "utility": {
        Outcome.RESOLVED: [
            "已派抢修人员到场处理，故障已排除，已恢复正常。",
            "已上门检修并更换故障设备，经测试运行正常。",
        ],
        Outcome.PARTLY: ["已临时恢复，管网改造需进一步施工，已告知诉求人预计完工时间。"],
        Outcome.EXPLAINED: ["系计划检修，已提前公告，已向诉求人解释并告知恢复时间。"],
    },
    "default": {
        Outcome.RESOLVED: [
            "已安排工作人员到现场核实处理，问题已解决，已电话告知诉求人。",
            "经协调相关单位，已按诉求人要求整改完毕。",
            "已责令相关方限期整改，复查已整改到位。",
        ],
        Outcome.PARTLY: ["已协调处理部分问题，剩余问题已纳入整改计划，将持续跟进。"],
        Outcome.EXPLAINED: ["经核实，该事项需按相关政策办理，已向诉求人详细解释说明。"],
    },
}
INTAKE_REPLIES = [
    "已向诉求人详细解答相关政策和办理流程。",
    "已告知诉求人办理地点、所需材料及网上办理方式。",
    "已现场答复，诉求人表示清楚。",
]
COMMENTS = {
    Rating.SATISFIED: [
        "",
        "",
        "",
        "处理很及时，谢谢！",
        "工作人员态度很好。",
        "当天就解决了，点赞。",
    ],
    Rating.BASICALLY: ["", "", "问题解决了，就是时间有点长。", "基本解决，希望以后多注意。"],
    Rating.UNSATISFIED: ["问题没有解决。", "只打了个电话，没有人上门。", "答复敷衍，不满意。", ""],
}
REJECT_NOTES = {
    RejectReason.OUT_OF_SCOPE: "该诉求属于司法程序处理范围，已告知诉求人通过法律途径解决。",
    RejectReason.INSUFFICIENT: "诉求地址不详，多次联系诉求人无法核实。",
    RejectReason.MALICIOUS: "反复拨打，内容与事实不符。",
}
PROGRESS_NOTES = [
    ("已安排工作人员上门查看。", True),
    ("已联系维修单位，正在处理中。", True),
    ("已与物业沟通，物业答应本周内处理。", False),
    ("需要协调相关部门，已发函。", False),
]
EXTENSION_REASONS = [
    "需协调多个部门联合处置，申请延期。",
    "维修需采购配件，申请延期办理。",
    "涉及历史遗留问题，需进一步调查核实。",
]
RETURN_REASONS = ["该事项不属于本单位职责范围，请重新派单。", "诉求地址不在本单位辖区。"]
SUPERVISION_NOTES = [
    "该件已超期，请于期限内办结并反馈。",
    "诉求人多次反映，请主要负责人督促办理。",
]
REOPEN_REASONS = ["诉求人不满意，问题未解决。", "回访诉求人表示仍未处理到位。"]


# Fixed notes that the workflow steps of the demo write (the simulator picks them in Python, the
# benchmark city in SQL: both read them here).
DISPATCH_NOTE = "请尽快联系诉求人。"
APPOINTMENT_NOTE = "已与诉求人约定上门时间。"
REFUSAL_NOTE = "请按原时限办结。"  # an extension refused
NOT_EVALUATED_NOTE = "超期未评价，自动归档。"
UNREASONABLE_NOTE = "经研判为不合理诉求。"  # 督查研判: closed as unreasonable
REVIEWED_NOTE = "已督促办理，予以归档。"  # 督查研判: closed after urging the unit on
# The placeholder {temp} of the complaints (the others are drawn by the generator or in
# demo.catalogue: ROADS, MONEY, TIMES_OF_DAY).
INDOOR_TEMPERATURES = (10, 11, 12, 13, 14, 15, 16)
