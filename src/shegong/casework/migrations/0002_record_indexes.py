"""Fewer indexes to keep up on every service record written.

- the record's division and the recipient's record and resident were each indexed twice:
  on their own and as the first column of a two-column index or unique constraint
  (``casework_record_div_day``, ``casework_recipient_once``, ``casework_recipient_res``);
  the single-column ones go;
- a record's case, group, activity and project are indexed where set only (partial
  indexes): most records have none of them, and a full index of NULLs grew with every
  record (67 MB each at 10 M records) while nothing ever looks up a NULL.
"""

import django.db.models.deletion
from django.db import migrations, models

LINKS = {
    "case": ("casework.case", "service_records", {}),
    "group": ("casework.workgroup", "sessions", {}),
    "activity": ("casework.activity", "service_records", {}),
    "project": ("projects.project", "service_records", {"verbose_name": "project"}),
}


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0001_initial"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="servicerecipient",
            name="record",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="recipients",
                to="casework.servicerecord",
            ),
        ),
        migrations.AlterField(
            model_name="servicerecipient",
            name="resident",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="casework.resident",
            ),
        ),
        migrations.AlterField(
            model_name="servicerecord",
            name="division",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="geo.division",
                verbose_name="where served",
            ),
        ),
        *(
            migrations.AlterField(
                model_name="servicerecord",
                name=name,
                field=models.ForeignKey(
                    blank=True,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name=related,
                    to=to,
                    **extra,
                ),
            )
            for name, (to, related, extra) in LINKS.items()
        ),
        *(
            migrations.AddIndex(
                model_name="servicerecord",
                index=models.Index(
                    condition=models.Q((f"{name}__isnull", False)),
                    fields=[name],
                    name=f"casework_record_{name}",
                ),
            )
            for name in LINKS
        ),
    ]
