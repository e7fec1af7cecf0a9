"""What the demo's residents and staff write, and how a city's cases are weighted: the one
vocabulary of the demo data, shared by the year of cases (``demo.history``) and the synthetic city
of the benchmark (``demo.city`` and the SQL of ``demo.city_sql``).

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

# Top-level category groups: (weight in the city, weight in villages), and the share of each
# member of the group (the parent itself takes the general matters).
GROUPS: dict[str, tuple[float, float]] = {
    "water": (0.07, 0.10),
    "gas": (0.05, 0.03),
    "power": (0.05, 0.07),
    "property": (0.16, 0.03),
    "real-estate": (0.05, 0.03),
    "noise": (0.09, 0.04),
    "sanitation": (0.11, 0.13),
    "roads": (0.09, 0.15),
    "social": (0.07, 0.10),
    "market": (0.08, 0.06),
    "consult": (0.12, 0.12),
}
MEMBERS: dict[str, dict[str, float]] = {
    "heating": {"heating-cold": 0.70, "heating-leak": 0.15, "heating": 0.15},
    "water": {"water-outage": 0.45, "water-quality": 0.25, "water": 0.30},
    "gas": {"gas-outage": 0.35, "gas-leak": 0.20, "gas": 0.45},
    "property": {"property-service": 0.55, "property-elevator": 0.20, "property": 0.25},
    "roads": {"roads-damage": 0.45, "roads-lights": 0.35, "roads": 0.20},
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
GRID_GROUPS = {"sanitation", "roads", "property", "noise", "water", "power"}

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

# (title, description) per category; placeholders: {addr} {temp} {days} {hours} {floor}
# {years} {time}.
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "heating-cold": [
        ("供暖不热", "家里暖气不热，室温只有{temp}度，家里有老人小孩，请尽快处理。"),
        ("室温不达标", "{addr}，开始供暖后室内温度一直上不去，只有{temp}度，找过物业没解决。"),
        ("暖气片上热下凉", "暖气片上面热下面凉，晚上特别冷，室温{temp}度左右，希望派人检修。"),
        ("整栋楼暖气不热", "这栋楼{floor}层以上暖气都不热，室温只有{temp}度，请供热单位排查。"),
        ("家中无暖气", "家里没有暖气，附近一处管道破损，已经{days}天了，请尽快抢修。"),
        ("暖气时冷时热", "{addr}暖气时冷时热，晚上基本不热，室温只有{temp}度。"),
    ],
    "heating-leak": [
        ("暖气管道漏水", "楼道里暖气管道漏水，地面都是水，存在安全隐患，请尽快维修。"),
        ("暖气阀门漏水", "家里暖气阀门一直滴水，自己关不上，楼下邻居家也受影响。"),
        ("供热管网破裂", "{addr}附近供热管道破裂冒热气，路面结冰，行人容易滑倒。"),
    ],
    "heating": [
        ("供暖费收费问题", "今年供暖费按建筑面积收费，和房产证面积不一致，请核实收费标准。"),
        ("申请停暖", "房屋长期无人居住，想申请停暖，不知道需要办理什么手续。"),
        ("供暖时间咨询", "今年什么时候开始供暖？家里已经很冷了，老人受不了。"),
    ],
    "water-outage": [
        ("小区停水", "{addr}从{time}开始停水，没有接到任何通知，生活受到影响。"),
        ("停水未提前通知", "小区突然停水已经{hours}个小时，请问什么时候恢复供水？"),
        ("高层水压不足", "{floor}层以上白天基本没水，水压太低，热水器打不着火。"),
    ],
    "water-quality": [
        ("自来水发黄", "家里自来水发黄有异味，放一会儿底部有沉淀，不敢饮用。"),
        ("水质浑浊", "最近自来水浑浊，烧开后有很多水垢，请检测一下水质。"),
    ],
    "water": [
        ("水费异常", "这个月水费比平时高出很多，怀疑水表有问题，请核查。"),
        ("供水管道漏水", "{addr}路边供水管道漏水，水流到路面上，浪费严重。"),
        ("水表冻裂", "天冷水表冻裂了，家里没法用水，请供水公司更换。"),
    ],
    "gas-leak": [
        ("闻到燃气味", "楼道里燃气味很浓，担心泄漏，请尽快派人检查。"),
        ("燃气管道泄漏", "{addr}室外燃气管道有漏气声，味道很大，请紧急处理。"),
    ],
    "gas-outage": [
        ("燃气停供", "家里燃气突然没有了，做不了饭，卡里还有余额，请尽快处理。"),
        ("燃气压力不足", "最近燃气火很小，做饭很慢，请检查燃气压力。"),
    ],
    "gas": [
        ("燃气表故障", "燃气卡插进去没有反应，燃气表可能坏了，请派人维修。"),
        ("燃气开户咨询", "新房子想开通燃气，请问需要准备哪些材料，去哪里办理？"),
        ("燃气安检收费", "燃气公司上门安检要求更换软管并收费，是否合理？"),
    ],
    "power": [
        ("小区停电", "{addr}突然停电，已经{hours}个小时了，没有任何通知。"),
        ("电压不稳", "家里电压不稳，灯一闪一闪的，电器容易烧坏。"),
        ("电线老化", "楼道电线老化裸露，存在安全隐患，请供电部门处理。"),
    ],
    "property-service": [
        ("物业服务差", "物业不作为，小区垃圾清运不及时，楼道卫生没人打扫。"),
        ("物业乱收费", "物业今年突然上涨物业费，没有经过业主大会同意。"),
        ("小区停车混乱", "小区内车辆乱停乱放，消防通道被堵，物业不管。"),
    ],
    "property-elevator": [
        ("电梯经常故障", "{addr}电梯经常停运，{floor}楼的老人上下楼困难，请督促维修。"),
        ("电梯困人", "电梯运行中突然停住，有人被困，物业响应很慢。"),
    ],
    "property": [
        ("屋顶漏水", "顶楼房屋漏水，墙面发霉，找物业维修一直拖着不处理。"),
        ("老旧小区无物业", "老旧小区没有物业，环境脏乱差，希望社区协调引入物业。"),
    ],
    "real-estate": [
        ("房产证迟迟办不下来", "买房{years}年了房产证一直办不下来，开发商说在等手续，请协调。"),
        ("不动产登记历史遗留问题", "{addr}交房多年未办理不动产权证，影响孩子上学落户。"),
        ("不动产登记办理咨询", "二手房过户需要带什么材料，能不能网上预约？"),
    ],
    "noise": [
        ("夜间施工噪音", "附近工地晚上十点以后还在施工，噪音很大，影响休息。"),
        ("商铺噪音扰民", "楼下商铺音响声音太大，从早到晚放音乐，严重扰民。"),
        ("广场舞噪音", "小区广场舞音响太大，晚上九点以后还不停。"),
    ],
    "sanitation": [
        ("垃圾清运不及时", "{addr}垃圾桶满了{days}天没人清运，气味很大。"),
        ("积雪未清理", "小区门口积雪结冰没人清理，老人出门容易摔倒。"),
        ("污水外溢", "路边下水道堵塞，污水冒到路面上，臭味很重。"),
    ],
    "roads-damage": [
        ("路面坑洼", "{addr}路面破损坑洼，下雨天积水，车辆行人通行困难。"),
        ("井盖缺失", "路边井盖缺失，晚上看不清，很危险，请尽快处理。"),
    ],
    "roads-lights": [
        ("路灯不亮", "{addr}一段路灯不亮已经{days}天了，晚上出行不安全。"),
        ("路灯白天亮", "路灯白天也一直亮着，浪费电。"),
    ],
    "roads": [
        ("占道经营", "路边摊贩占道经营，人行道无法通行。"),
        ("路口缺少斑马线", "路口没有红绿灯和斑马线，孩子上学过马路很危险。"),
    ],
    "social": [
        ("低保申请咨询", "家里老人生病没有收入，想申请低保，不知道怎么办理。"),
        ("高龄补贴未发放", "家里老人已满80周岁，高龄补贴一直没有发放。"),
        ("养老助餐需求", "独居老人生活不便，希望社区能提供助餐服务。"),
    ],
    "market": [
        ("食品过期", "在超市买的食品过期了，商家拒绝退换。"),
        ("价格欺诈", "商家标价和结账价格不一致，多收了钱。"),
        ("预付卡退费难", "办的健身卡门店关门了，剩余费用退不了。"),
    ],
    "consult": [
        ("社保缴费咨询", "灵活就业人员社保怎么缴纳，在哪里办理？"),
        ("医保报销咨询", "异地就医医保怎么备案报销？"),
        ("户籍办理咨询", "孩子上户口需要准备哪些材料？"),
        ("公积金提取咨询", "租房提取公积金需要什么手续？"),
    ],
}
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
# The placeholders of TEMPLATES: {temp} and {time}.
INDOOR_TEMPERATURES = (10, 11, 12, 13, 14, 15, 16)
TIMES_OF_DAY = ("早上", "昨天晚上", "中午", "凌晨")
