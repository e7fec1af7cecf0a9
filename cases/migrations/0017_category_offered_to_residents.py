"""Category.offered_to_residents (issue 14 item 10): a category staff may log but residents and
Open311 clients are never offered, such as the demo's 应急演练 drill."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_reroute"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="offered_to_residents",
            field=models.BooleanField(
                default=True,
                help_text="关闭后居民提交页和第三方接口不提供该类别，接线员仍可登记",
                verbose_name="居民可选",
            ),
        ),
        migrations.AddField(
            model_name="historicalcategory",
            name="offered_to_residents",
            field=models.BooleanField(
                default=True,
                help_text="关闭后居民提交页和第三方接口不提供该类别，接线员仍可登记",
                verbose_name="居民可选",
            ),
        ),
    ]
