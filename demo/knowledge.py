"""The demo 知识库: answers to the common questions of the demo categories, as a hotline keeps
them (heating dates, 低保, 不动产登记 materials, water outages …). Idempotent: found by question.

The rules quoted are Xining's as the public sources put them where they say so, and otherwise
illustrative (marked so in the article's basis): a city loads its own articles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases import knowledge
from cases.models import Category, KnowledgeArticle
from org.models import Unit


@dataclass(frozen=True)
class DemoArticle:
    question: str
    answer: str
    basis: str
    owner: str  # unit code
    categories: tuple[str, ...]
    review_in_days: int = 180  # from today: when its owner checks it again


ARTICLES = [
    DemoArticle(
        "西宁什么时候开始供暖？什么时候停暖？",
        "西宁市城区集中供暖期为每年10月15日至次年4月15日，遇气温偏低时可提前或延后，以市政府"
        "当年通知为准。供暖期内卧室、起居室温度不低于18℃，低于标准可拨打供热企业报修电话"
        "或12345反映，供热企业上门测温处理。",
        "《西宁市城市供热管理办法》（示例，以现行文件为准）",
        "xn-heating",
        ("heating", "heating-cold"),
    ),
    DemoArticle(
        "怎么申请低保？需要什么材料？",
        "最低生活保障（低保）以家庭为单位申请：由户主或家庭成员向户籍所在地乡镇（街道）提出，"
        "也可由社区（村）代为提交。需身份证、户口簿、家庭收入和财产情况说明、授权核对家庭经济"
        "状况的声明书，残疾、患病等情况另附证明。乡镇（街道）入户调查、民主评议并公示后报区县"
        "民政部门审批，一般在30个工作日内办结。",
        "《社会救助暂行办法》；青海省最低生活保障办法（示例）",
        "xn-civil",
        ("social-dibao", "social"),
    ),
    DemoArticle(
        "办理不动产登记（房产证）需要带哪些材料？",
        "办理不动产登记需携带：不动产登记申请书、申请人身份证明、不动产权属来源材料（购房合同、"
        "继承或赠与材料等）、已缴纳税费的凭证；首次登记另需竣工验收、测绘成果等。可先在“青海政务"
        "服务网”预约，在市政务服务中心不动产登记窗口一窗受理，一般登记5个工作日内办结。",
        "《不动产登记暂行条例》及实施细则",
        "xn-planning",
        ("real-estate", "real-estate-transfer"),
    ),
    DemoArticle(
        "停水了怎么查是不是计划停水？什么时候恢复？",
        "计划停水由供水企业提前24小时在官方网站、微信公众号和小区公告栏公告停水范围和恢复时间。"
        "突发停水请拨打供水服务热线报修，抢修一般在12小时内恢复供水，超过12小时的设临时供水点。"
        "如只有您家停水，请先检查水表阀门和是否欠费。",
        "《城市供水条例》第二十二条",
        "xn-water",
        ("water-outage", "water"),
    ),
    DemoArticle(
        "高龄补贴怎么领？多大年纪可以领？",
        "年满80周岁的本市户籍老年人可申领高龄补贴，由本人或家属持身份证、户口簿和银行账户到"
        "户籍所在社区（村）申请，街道（乡镇）审核后按月发放到个人账户，满一定年龄后标准提高。",
        "西宁市高龄补贴发放办法（示例）",
        "xn-civil",
        ("social-elderly-allowance",),
    ),
    DemoArticle(
        "住房公积金怎么提取？租房可以提吗？",
        "职工购买、建造、翻建、大修自住住房，偿还购房贷款本息，或无房职工租房自住的，可申请提取"
        "住房公积金。租房提取需身份证、本市无房证明，每年可提取一次，可通过公积金中心网站或"
        "手机APP线上办理。",
        "《住房公积金管理条例》第二十四条",
        "xn-provident",
        ("consult-provident",),
    ),
    DemoArticle(
        "突然停电了，怎么知道是不是计划停电？",
        "计划停电由供电公司提前7天公告，可通过“网上国网”APP或95598查询所在地址的停电信息。"
        "非计划停电请拨打95598报修；如只有您家停电，请先检查家中空气开关和电费余额。",
        "《供电营业规则》",
        "xn-power",
        ("power-outage", "power"),
    ),
]


@transaction.atomic
def seed_knowledge() -> int:
    """Add the demo articles not yet there; returns how many were added."""
    today = timezone.localdate()
    units = {u.code: u for u in Unit.objects.filter(code__in={a.owner for a in ARTICLES})}
    categories = {c.code: c for c in Category.objects.all()}
    added = 0
    for demo in ARTICLES:
        if (
            demo.owner not in units
            or KnowledgeArticle.objects.filter(question=demo.question).exists()
        ):
            continue
        article = KnowledgeArticle(
            question=demo.question,
            answer=demo.answer,
            basis=demo.basis,
            owner_unit=units[demo.owner],
            valid_from=today - dt.timedelta(days=365),
            review_by=today + dt.timedelta(days=demo.review_in_days),
        )
        knowledge.record(
            article,
            by=None,
            categories=[categories[c] for c in demo.categories if c in categories],
        )
        added += 1
    return added
