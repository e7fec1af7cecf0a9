"""Xining's administrative divisions for the demo data (行政区划).

Sources: xining_regions.md, source articles, gazetteer pages; believable demo data, not official.
"""

# Each node: (name, official_code_or_None, children). Depth gives the level:
# city → district/county → street/town → community/village.
# Names on lines marked "# illustrative" are plausible inventions, not confirmed real names.
# fmt: off
REGIONS: tuple = (
    "西宁市", "630100", (
        ("城东区", "630102", (
            ("东关大街街道", None, (
                ("北关社区", None, ()),
                ("东关社区", None, ()),
                ("慈幼社区", None, ()),
                ("五一社区", None, ()),
            )),
            ("清真巷街道", None, (
                ("团结社区", None, ()),
                ("夏都花园社区", None, ()),
                ("清真巷社区", None, ()),
            )),
            ("大众街街道", None, (
                ("康西社区", None, ()),
                ("树林巷社区", None, ()),
                ("园山路社区", None, ()),
                ("富强巷社区", None, ()),
                ("德令哈社区", None, ()),
            )),
            ("周家泉街道", None, (
                ("杨家巷社区", None, ()),
                ("建国路社区", None, ()),
                ("为民巷社区", None, ()),
            )),
            ("火车站街道", None, (
                ("火车站社区", None, ()),
                ("中庄社区", None, ()),
            )),
            ("八一路街道", None, (
                ("学院社区", None, ()),
                ("康东社区", None, ()),
                ("青藏花园社区", None, ()),
                ("泰宁社区", None, ()),
                ("博雅路南社区", None, ()),  # street not confirmed; placed here
            )),
            ("林家崖街道", None, (
                ("林家崖社区", None, ()),
                ("一颗印社区", None, ()),
                ("站西社区", None, ()),
            )),
            ("乐家湾镇", None, (
                ("乐家湾社区", None, ()),
                ("金桥路社区", None, ()),
                ("上铺村", None, ()),
                ("下铺村", None, ()),
            )),
            ("韵家口镇", None, (
                ("互助中路社区", None, ()),
                ("纺织社区", None, ()),
                ("东兴社区", None, ()),
                ("东盛社区", None, ()),
            )),
        )),
        ("城中区", "630103", (
            ("人民街街道", None, (
                ("北大街社区", None, ()),  # illustrative
                ("观门街社区", None, ()),  # illustrative
            )),
            ("南滩街道", None, (
                ("南山社区", None, ()),
                ("南山西社区", None, ()),
                ("南山东社区", None, ()),
                ("农建社区", None, ()),
                ("建新社区", None, ()),
                ("新青社区", None, ()),
            )),
            ("仓门街街道", None, (
                ("仓门街社区", None, ()),  # illustrative
                ("石坡街社区", None, ()),  # illustrative
            )),
            ("礼让街街道", None, (
                ("礼让街社区", None, ()),  # illustrative
                ("南大街社区", None, ()),  # illustrative
            )),
            ("饮马街街道", None, (
                ("饮马街社区", None, ()),  # illustrative
                ("水井巷社区", None, ()),  # illustrative
            )),
            ("南川东路街道", None, (
                ("南川东路社区", None, ()),  # illustrative
                ("南酉山社区", None, ()),  # illustrative
            )),
            ("南川西路街道", None, (
                ("沈家寨社区", None, ()),
                ("福禄巷社区", None, ()),
                ("西台社区", None, ()),
                ("红星社区", None, ()),
                ("园树社区", None, ()),
                ("东台社区", None, ()),
                ("贾小村", None, ()),
                ("红星村", None, ()),
                ("新青村", None, ()),
                ("园树村", None, ()),
                ("沈家寨村", None, ()),
            )),
            ("总寨镇", None, (
                ("总南村", None, ()),  # illustrative
                ("总北村", None, ()),  # illustrative
                ("谢家寨村", None, ()),  # illustrative
            )),
        )),
        ("城西区", "630104", (
            ("西关大街街道", None, (
                ("北气象巷社区", None, ()),
                ("南气象巷社区", None, ()),
                ("贾小社区", None, ()),
            )),
            ("古城台街道", None, (
                ("昆仑路东社区", None, ()),
                ("昆仑路西社区", None, ()),
                ("学院巷西社区", None, ()),
                ("学院巷东社区", None, ()),
                ("广场东社区", None, ()),
            )),
            ("虎台街道", None, (
                ("虎台社区", None, ()),
                ("冷湖路社区", None, ()),
                ("医财巷西社区", None, ()),
                ("医财巷东社区", None, ()),
                ("新宁路西社区", None, ()),
                ("海晏路社区", None, ()),
                ("杨家寨村", None, ()),
                ("苏家河湾村", None, ()),
                ("殷家庄村", None, ()),
            )),
            ("胜利路街道", None, (
                ("公园巷社区", None, ()),
                ("北商业巷社区", None, ()),
                ("东交通巷社区", None, ()),
                ("西交通巷社区", None, ()),
            )),
            ("兴海路街道", None, (
                ("湟岸巷社区", None, ()),
                ("尕寺巷社区", None, ()),
                ("兴胜巷社区", None, ()),
                ("滨河路社区", None, ()),
                ("中华巷社区", None, ()),
            )),
            ("文汇路街道", None, (
                ("文汇路社区", None, ()),  # illustrative
                ("文景社区", None, ()),  # illustrative
            )),
            ("通海路街道", None, (
                ("通海路社区", None, ()),  # illustrative
                ("海湖社区", None, ()),  # illustrative
            )),
            ("彭家寨镇", None, (
                ("西川南路社区", None, ()),
                ("西北园村", None, ()),
                ("彭家寨村", None, ()),
                ("刘家寨村", None, ()),
                ("阴山堂村", None, ()),
                ("汉庄村", None, ()),
                ("张家湾村", None, ()),
                ("杨家湾村", None, ()),
                ("晨光村", None, ()),
                ("火东村", None, ()),
                ("火西村", None, ()),
            )),
        )),
        ("城北区", "630105", (
            ("朝阳街道", None, (
                ("朝阳社区", None, ()),  # illustrative
                ("祁连路社区", None, ()),  # illustrative
            )),
            ("小桥大街街道", None, (
                ("小桥社区", None, ()),  # illustrative
                ("毛胜寺社区", None, ()),  # illustrative
            )),
            ("马坊街道", None, (
                ("马坊社区", None, ()),  # illustrative
                ("幸福社区", None, ()),  # illustrative
            )),
            ("火车西站街道", None, (
                ("火车西站社区", None, ()),  # illustrative
                ("西站新城社区", None, ()),  # illustrative
            )),
            ("大堡子镇", None, (
                ("陶家寨村", None, ()),  # illustrative
                ("乙其寨村", None, ()),  # illustrative
                ("宋家寨村", None, ()),  # illustrative
                ("吧浪村", None, ()),  # illustrative
            )),
            ("廿里铺镇", "630105101000", (
                ("生物园社区", None, ()),
                ("泉湾社区", None, ()),
                ("廿里铺村", None, ()),
                ("花园台村", None, ()),
                ("孙家寨村", None, ()),
                ("小寨村", None, ()),
                ("莫家庄村", None, ()),
                ("石头磊村", None, ()),
                ("魏家庄村", None, ()),
                ("九家湾村", None, ()),
                ("郭家塔村", None, ()),
                ("双苏堡村", None, ()),
            )),
        )),
        ("湟中区", "630106", (
            ("鲁沙尔镇", None, (
                ("东山村", None, ()),
                ("西山村", None, ()),
                ("和平村", None, ()),
                ("团结村", None, ()),
                ("塔尔湾村", None, ()),
                ("清泉一村", None, ()),
                ("清泉二村", None, ()),
                ("河滩村", None, ()),
                ("海马泉村", None, ()),
                ("水滩村", None, ()),
                ("昂藏村", None, ()),
                ("赵家庄村", None, ()),
                ("红崖沟村", None, ()),
                ("南门村", None, ()),
                ("孔家村", None, ()),
                ("徐家寨村", None, ()),
                ("陈家滩村", None, ()),
            )),
            ("多巴镇", None, (
                ("多巴一村", None, ()),
                ("多巴二村", None, ()),  # illustrative
                ("多巴三村", None, ()),  # illustrative
                ("国寺营村", None, ()),  # illustrative
                ("通海村", None, ()),  # illustrative
            )),
            ("田家寨镇", None, (
                ("田家寨村", None, ()),  # illustrative
                ("永丰村", None, ()),  # illustrative
            )),
            ("上新庄镇", None, (
                ("上新庄村", None, ()),  # illustrative
                ("骟马台村", None, ()),  # illustrative
            )),
            ("甘河滩镇", None, (
                ("甘河滩村", None, ()),  # illustrative
                ("前营村", None, ()),  # illustrative
            )),
            ("共和镇", None, (
                ("共和村", None, ()),  # illustrative
                ("苏尔吉村", None, ()),  # illustrative
            )),
            ("拦隆口镇", None, (
                ("拦隆口村", None, ()),  # illustrative
                ("卡阳村", None, ()),  # illustrative
            )),
            ("上五庄镇", None, (
                ("上五庄村", None, ()),  # illustrative
                ("拉斯目村", None, ()),  # illustrative
            )),
            ("李家山镇", None, (
                ("李家山村", None, ()),  # illustrative
                ("包勒村", None, ()),  # illustrative
            )),
            ("西堡镇", None, (
                ("西堡村", None, ()),  # illustrative
                ("葛家寨村", None, ()),  # illustrative
            )),
            ("群加藏族乡", None, (
                ("群加村", None, ()),  # illustrative
                ("来路村", None, ()),  # illustrative
            )),
            ("土门关乡", None, (
                ("土门关村", None, ()),  # illustrative
                ("上山庄村", None, ()),  # illustrative
            )),
            ("汉东回族乡", None, (
                ("汉东村", None, ()),  # illustrative
                ("下营村", None, ()),  # illustrative
            )),
            ("大才回族乡", None, (
                ("大才村", None, ()),  # illustrative
                ("前沟村", None, ()),  # illustrative
            )),
            ("海子沟乡", None, (
                ("海子沟村", None, ()),  # illustrative
                ("顾家岭村", None, ()),  # illustrative
            )),
        )),
        ("大通回族土族自治县", "630121", (
            ("桥头镇", None, (
                ("桥头社区", None, ()),  # illustrative
                ("元朔社区", None, ()),  # illustrative
            )),
            ("城关镇", None, (
                ("白塔社区", None, ()),  # illustrative
                ("东门村", None, ()),  # illustrative
            )),
            ("塔尔镇", None, (
                ("塔尔村", None, ()),  # illustrative
                ("塔尔沟村", None, ()),  # illustrative
            )),
            ("东峡镇", None, (
                ("衙门庄村", None, ()),
                ("东峡村", None, ()),  # illustrative
            )),
            ("黄家寨镇", None, (
                ("黄家寨村", None, ()),  # illustrative
                ("黄西村", None, ()),  # illustrative
            )),
            ("长宁镇", None, (
                ("长宁村", None, ()),  # illustrative
                ("后子河村", None, ()),  # illustrative
            )),
            ("景阳镇", None, (
                ("苏家堡村", None, ()),
                ("土关村", None, ()),
            )),
            ("多林镇", None, (
                ("多林村", None, ()),  # illustrative
                ("北庄村", None, ()),  # illustrative
            )),
            ("新庄镇", None, (
                ("新庄村", None, ()),  # illustrative
                ("药草村", None, ()),  # illustrative
            )),
            ("青林乡", None, (
                ("青林村", None, ()),  # illustrative
                ("青林东沟村", None, ()),  # illustrative
            )),
            ("青山乡", None, (
                ("青山村", None, ()),  # illustrative
                ("青山上庄村", None, ()),  # illustrative
            )),
            ("逊让乡", None, (
                ("逊让村", None, ()),  # illustrative
                ("逊让下庄村", None, ()),  # illustrative
            )),
            ("极乐乡", None, (
                ("极乐村", None, ()),  # illustrative
                ("极乐中庄村", None, ()),  # illustrative
            )),
            ("石山乡", None, (
                ("石山村", None, ()),  # illustrative
                ("石山沟村", None, ()),  # illustrative
            )),
            ("宝库乡", None, (
                ("宝库村", None, ()),  # illustrative
                ("宝库河村", None, ()),  # illustrative
            )),
            ("斜沟乡", None, (
                ("斜沟村", None, ()),  # illustrative
                ("斜沟口村", None, ()),  # illustrative
            )),
            ("良教乡", None, (
                ("良教村", None, ()),  # illustrative
                ("良教沟村", None, ()),  # illustrative
            )),
            ("向化藏族乡", None, (
                ("向化村", None, ()),  # illustrative
                ("向化上滩村", None, ()),  # illustrative
            )),
            ("桦林乡", None, (
                ("桦林村", None, ()),  # illustrative
                ("桦林沟村", None, ()),  # illustrative
            )),
            ("朔北藏族乡", None, (
                ("朔北村", None, ()),  # illustrative
                ("朔北滩村", None, ()),  # illustrative
            )),
        )),
        ("湟源县", "630123", (
            ("城关镇", None, (
                ("丹噶尔社区", None, ()),  # illustrative
                ("西门社区", None, ()),  # illustrative
            )),
            ("大华镇", None, (
                ("大华村", None, ()),  # illustrative
                ("大华东村", None, ()),  # illustrative
            )),
            ("东峡乡", None, (
                ("东峡口村", None, ()),  # illustrative
                ("东峡沟村", None, ()),  # illustrative
            )),
            ("日月藏族乡", None, (
                ("日月山村", None, ()),  # illustrative
                ("兔尔干村", None, ()),  # illustrative
            )),
            ("和平乡", None, (
                ("和平川村", None, ()),  # illustrative
                ("大湾口村", None, ()),  # illustrative
            )),
            ("波航乡", None, (
                ("波航村", None, ()),  # illustrative
                ("波航滩村", None, ()),  # illustrative
            )),
            ("申中乡", None, (
                ("申中村", None, ()),  # illustrative
                ("申中前沟村", None, ()),  # illustrative
            )),
            ("巴燕乡", None, (
                ("巴燕村", None, ()),  # illustrative
                ("巴燕峡村", None, ()),  # illustrative
            )),
            ("寺寨乡", None, (
                ("寺寨村", None, ()),  # illustrative
                ("寺寨沟村", None, ()),  # illustrative
            )),
        )),
    ),
)
# fmt: on
