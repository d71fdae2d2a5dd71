"""The organizer uploads a list, sees every rejected row in the preview, confirms, and only then it is imported."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from campaigns.models import Contact
from tests.campaigns.files import contact_row, write_csv, write_xlsx
from tests.factories import make_organization, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    return {"alice": alice, "bob": bob, "iwate": make_organization("iwate", alice, name="岩手医学会"),
            "miyagi": make_organization("miyagi", bob, name="宮城医学会")}


def upload(client, slug: str, path):
    with path.open("rb") as handle:
        return client.post(f"/organizer/{slug}/contacts/import/", {"file": handle})


def confirm_key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def test_the_preview_counts_and_lists_every_rejected_row_and_imports_nothing_until_confirmed(client, scene, tmp_path):
    client.force_login(scene["alice"])
    path = write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2, email="bad"),
                                             contact_row(3, prefecture="ムー大陸"), contact_row(1)])
    response = upload(client, "iwate", path)
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-count="imported">1<', page) and re.search(r'data-count="merged">1<', page)
    assert re.search(r'data-count="rejected">2<', page)
    assert "ムー大陸" in page and "bad" in page
    assert not Contact.objects.exists()

    done = client.post("/organizer/iwate/contacts/import/confirm/", {"key": confirm_key(page)})
    assert done.status_code == 200
    assert list(Contact.objects.values_list("email", flat=True)) == ["doctor1@iwate.example.jp"]
    # A second click (or a replay) imports nothing again.
    again = client.post("/organizer/iwate/contacts/import/confirm/", {"key": confirm_key(page)})
    assert again.status_code == 400 and Contact.objects.count() == 1


def test_pages_are_japanese_first_and_english_on_request(client, scene, tmp_path):
    client.force_login(scene["alice"])
    page = client.get("/organizer/iwate/contacts/import/").content.decode()
    assert "連絡先リストの取り込み" in page and "メールアドレス (email)" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Import a contact list" in client.get("/organizer/iwate/contacts/import/").content.decode()


def test_an_xlsx_upload_previews_the_same_way(client, scene, tmp_path):
    client.force_login(scene["alice"])
    page = upload(client, "iwate", write_xlsx(tmp_path / "list.xlsx", [contact_row(1), contact_row(2)])).content.decode()
    assert re.search(r'data-count="imported">2<', page)


def test_an_unusable_file_shows_why_on_the_upload_page(client, scene, tmp_path):
    client.force_login(scene["alice"])
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    with translation.override("ja"):
        response = upload(client, "iwate", path)
    assert response.status_code == 400
    assert "CSV ファイルでも Excel (.xlsx) ファイルでもありません" in response.content.decode()


def test_a_file_over_the_limit_is_a_field_error(client, scene, tmp_path, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 100
    client.force_login(scene["alice"])
    response = upload(client, "iwate", write_csv(tmp_path / "list.csv", [contact_row(n) for n in range(10)]))
    assert response.status_code == 400 and "has-error" in response.content.decode()


def test_another_organizations_import_is_not_found_and_its_staged_file_cannot_be_confirmed(client, scene, tmp_path):
    client.force_login(scene["bob"])
    page = upload(client, "miyagi", write_csv(tmp_path / "list.csv", [contact_row(1)])).content.decode()
    key = confirm_key(page)
    client.force_login(scene["alice"])
    assert client.get("/organizer/miyagi/contacts/import/").status_code == 404
    assert client.post("/organizer/miyagi/contacts/import/confirm/", {"key": key}).status_code == 404
    # Nor through her own organization's address: the key belongs to Bob's session and society.
    assert client.post("/organizer/iwate/contacts/import/confirm/", {"key": key}).status_code == 400
    assert not Contact.objects.exists()
    assert "宮城医学会" not in client.get("/organizer/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_and_physicians_or_speakers_get_nothing(client, scene):
    response = client.get("/organizer/iwate/contacts/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(make_staff("sato", "speaker"))
    assert client.get("/organizer/iwate/contacts/import/").status_code == 404
    assert client.get("/organizer/").status_code == 404
