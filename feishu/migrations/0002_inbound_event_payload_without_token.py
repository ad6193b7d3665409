from django.db import migrations


def strip_tokens(apps, schema_editor):
    """Events recorded before the payload was stored without `header.token` (the app's
    verification token) lose it."""
    InboundEvent = apps.get_model("feishu", "InboundEvent")
    rows = InboundEvent.all_tenants.filter(payload__header__has_key="token").only("payload")
    for event in rows.iterator():
        del event.payload["header"]["token"]
        InboundEvent.all_tenants.filter(pk=event.pk).update(payload=event.payload)


class Migration(migrations.Migration):
    dependencies = [
        ("feishu", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(strip_tokens, migrations.RunPython.noop),
    ]
