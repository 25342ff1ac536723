"""MembershipIndex.is_point_person, filled from each ready group's own memberships."""

from django.db import migrations, models


def fill(apps, schema_editor):
    PeerGroup = apps.get_model("society", "PeerGroup")
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        for schema in PeerGroup.objects.filter(status="ready").values_list(
            "schema_name", flat=True
        ):
            cursor.execute(
                "SELECT 1 FROM information_schema.tables"
                " WHERE table_schema = %s AND table_name = 'groups_membership'",
                [schema],
            )
            if cursor.fetchone() is None:
                continue
            cursor.execute(
                "UPDATE society_membershipindex i SET is_point_person = true"
                f" FROM {quote(schema)}.groups_membership m, society_peergroup g"
                " WHERE g.schema_name = %s AND i.group_id = g.id AND m.user_id = i.user_id"
                " AND m.is_active AND m.role = 'point_person'",
                [schema],
            )


class Migration(migrations.Migration):
    dependencies = [("society", "0005_user_inactive")]

    operations = [
        migrations.AddField(
            model_name="membershipindex",
            name="is_point_person",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
