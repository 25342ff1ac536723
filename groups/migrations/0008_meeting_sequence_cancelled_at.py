from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0007_invitation_revoked"),
    ]

    operations = [
        migrations.AddField(
            model_name="meeting",
            name="sequence",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="meeting",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
