"""合并 (issue 14 item 5): ``Case.merged_at`` marks a case merged into ``duplicate_of`` (closed
as its duplicate), and the 合并 event type."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_category_offered_to_residents"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="merged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="合并时间"),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("submit", "提交诉求"),
                    ("accept", "受理"),
                    ("reject", "不予受理"),
                    ("resolve_at_intake", "即时办结"),
                    ("dispatch", "派单"),
                    ("sign", "签收"),
                    ("return", "退回"),
                    ("progress", "办理进展"),
                    ("contact", "联系诉求人"),
                    ("request_extension", "申请延期"),
                    ("decide_extension", "延期审批"),
                    ("request_return", "申请退回"),
                    ("decide_return", "退回审批"),
                    ("withdraw", "撤回"),
                    ("reassign", "改派"),
                    ("merge", "合并"),
                    ("reply", "办结答复"),
                    ("evaluate", "评价"),
                    ("reopen", "重办"),
                    ("supervise", "督办"),
                    ("recategorise", "改派分类"),
                    ("close", "归档"),
                    ("remind", "督办提醒"),
                    ("escalate", "督办升级"),
                ],
                max_length=24,
                verbose_name="类型",
            ),
        ),
    ]
