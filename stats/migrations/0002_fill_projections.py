"""The projections start as the sums of the rollup rows folded so far.

Self-contained (migrations outlive the code): the tables and columns are spelled out here. The
rollup state row is locked first, so a refresh that an older worker runs meanwhile waits for
this fill and then folds its events into both the rollup and the projections."""

from django.db import migrations

COUNTERS = (
    "created",
    "rejected",
    "dispatched",
    "responded",
    "replied",
    "resolved",
    "evaluated",
    "satisfied",
    "closed",
)
# table stem: (key columns after day and since, carried columns)
PROJECTIONS = {
    "district": (("district_id",), ()),
    "street": (("street_id",), ("district_id",)),
    "unit": (("unit_key",), ("unit_id",)),
    "districtcategory": (("district_id", "category_id"), ()),
    "streetcategory": (("street_id", "category_id"), ("district_id",)),
}


def fill(apps, schema_editor):
    state = apps.get_model("cases", "RollupState")
    list(state.objects.select_for_update().filter(pk=1))
    qn = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        for stem, (key, carried) in PROJECTIONS.items():
            for period, wide in (("day", "cases_casedaystat"), ("month", "cases_casemonthstat")):
                columns = ["day", "since", *key, *carried, *COUNTERS]
                select = [
                    "day",
                    "since",
                    *key,
                    *(f"max({qn(c)})" for c in carried),
                    *(f"sum({qn(c)})" for c in COUNTERS),
                ]
                nonzero = " OR ".join(f"sum({qn(c)}) <> 0" for c in COUNTERS)
                cursor.execute(
                    f"INSERT INTO {qn(f'stats_{stem}{period}stat')} "
                    f"({', '.join(qn(c) for c in columns)}) "
                    f"SELECT {', '.join(select)} FROM {qn(wide)} "
                    f"GROUP BY day, since, {', '.join(key)} HAVING {nonzero}"
                )


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
