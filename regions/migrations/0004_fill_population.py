"""Fill Prefecture.population from regions/data/prefectures.csv (2020 census, persons).

The post_migrate loader keeps it in line with the CSV afterwards; this migration
fills the rows that already exist when the column arrives. Reversing leaves the
column empty again (the dashboard then shows no reach, as before).
"""

from django.db import migrations


def fill(apps, schema_editor):
    from regions.loading import read_rows

    prefecture = apps.get_model("regions", "Prefecture")
    for row in read_rows():
        prefecture.objects.filter(code=row["code"]).update(population=int(row["population_2020"]))


def empty(apps, schema_editor):
    apps.get_model("regions", "Prefecture").objects.update(population=None)


class Migration(migrations.Migration):

    dependencies = [
        ("regions", "0003_population"),
    ]

    operations = [migrations.RunPython(fill, empty)]
