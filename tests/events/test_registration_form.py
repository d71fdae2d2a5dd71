"""The registration form: every field checked, values normalised, errors on the right field."""

from __future__ import annotations

import pytest
from django.utils import translation

from events.forms import RegistrationForm
from events.services import PhysicianDetails
from tests.factories import form_data

pytestmark = pytest.mark.django_db

REQUIRED_JA = "このフィールドは必須です。"
REQUIRED_EN = "This field is required."


def errors_for(data: dict[str, str], language: str = "ja") -> dict[str, list[str]]:
    with translation.override(language):
        form = RegistrationForm(data)
        form.is_valid()
        return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def test_the_factory_data_is_a_valid_registration():
    form = RegistrationForm(form_data())
    assert form.is_valid(), form.errors
    assert isinstance(form.details(), PhysicianDetails)


def test_details_returns_the_normalised_values():
    form = RegistrationForm(
        form_data(
            full_name="  青森\u3000 花子 ",
            name_kana="ｱｵﾓﾘ ﾊﾅｺ",
            email=" Hanako.Aomori@Hospital.Example.JP ",
            facility_name="青森中央病院　 内科",
            prefecture="Aomori",
            medical_registration_number="１２３-４５６",
        )
    )
    assert form.is_valid(), form.errors
    details = form.details()
    assert details.email == "hanako.aomori@hospital.example.jp"
    assert details.full_name == "青森 花子"
    assert details.name_kana == "アオモリ ハナコ"
    assert details.facility_name == "青森中央病院 内科"
    assert details.specialty == "medical_oncology"
    assert details.facility_type == "hospital"
    assert details.medical_registration_number == "123456"
    assert details.prefecture.code == "02"
    assert details.prefecture.name_ja == "青森県"


@pytest.mark.parametrize("written", ["Aomori", "青森", "青森県", "02", "2", "０２"])
def test_the_prefecture_can_be_given_in_any_accepted_form(written):
    form = RegistrationForm(form_data(prefecture=written))
    assert form.is_valid(), form.errors
    assert form.details().prefecture.code == "02"


@pytest.mark.parametrize("kana", ["あおもり はなこ", "アオモリ ハナコ", "ｱｵﾓﾘ ﾊﾅｺ", "あおもり　はなこ", "やまだ・たろう", "おおの ゆーこ"])
def test_it_accepts_names_in_hiragana_or_katakana(kana):
    assert errors_for(form_data(name_kana=kana)) == {}


@pytest.mark.parametrize("number", ["123456", "１２３４５６", "", "1234567", "123-456"])
def test_it_accepts_a_medical_registration_number_of_up_to_seven_digits_or_none(number):
    form = RegistrationForm(form_data(medical_registration_number=number))
    assert form.is_valid(), form.errors
    assert form.details().medical_registration_number == number.replace("-", "").translate(
        str.maketrans("０１２３４５６７８９", "0123456789")
    )


LONG_NAME = "青" * 101

# (field, value (None = not sent), language, fragment the field's error must contain)
INVALID = [
    ("full_name", None, "ja", REQUIRED_JA),
    ("full_name", "", "ja", REQUIRED_JA),
    ("full_name", "   ", "ja", REQUIRED_JA),
    ("full_name", "\u3000\u3000", "ja", REQUIRED_JA),
    ("full_name", LONG_NAME, "ja", "100 文字以下"),
    ("full_name", "青森\x07花子", "en", "Enter your full name."),
    ("full_name", "青森\n花子", "en", "Enter your full name."),
    ("full_name", "青森\t花子", "en", "Enter your full name."),
    ("full_name", "青森\x1b[31m花子", "en", "Enter your full name."),
    ("full_name", "青森\x00花子", "en", "Null characters are not allowed."),
    ("name_kana", None, "ja", REQUIRED_JA),
    ("name_kana", "  ", "ja", REQUIRED_JA),
    ("name_kana", "aomori hanako", "en", "Enter your name in hiragana or katakana."),
    ("name_kana", "Aomori Hanako", "en", "Enter your name in hiragana or katakana."),
    ("name_kana", "青森 花子", "en", "Enter your name in hiragana or katakana."),
    ("name_kana", "あおもり 花子", "en", "Enter your name in hiragana or katakana."),
    ("email", None, "ja", REQUIRED_JA),
    ("email", "", "ja", REQUIRED_JA),
    ("email", "hanako", "ja", "有効なメールアドレスを入力してください。"),
    ("email", "hanako@", "ja", "有効なメールアドレスを入力してください。"),
    ("email", "hanako@@hospital.example.jp", "ja", "有効なメールアドレスを入力してください。"),
    ("email", "hanako aomori@hospital.example.jp", "ja", "有効なメールアドレスを入力してください。"),
    ("specialty", None, "ja", REQUIRED_JA),
    ("specialty", "", "ja", REQUIRED_JA),
    ("specialty", "astrology", "ja", "正しく選択してください。"),
    ("specialty", "Basic specialties", "ja", "正しく選択してください。"),
    ("facility_name", None, "ja", REQUIRED_JA),
    ("facility_name", "   ", "ja", REQUIRED_JA),
    ("facility_name", "病" * 201, "ja", "200 文字以下"),
    ("facility_name", "青森\x07病院", "en", "Enter the name of your facility."),
    ("facility_type", None, "ja", REQUIRED_JA),
    ("facility_type", "pharmacy", "ja", "正しく選択してください。"),
    ("prefecture", None, "ja", REQUIRED_JA),
    ("prefecture", "", "ja", REQUIRED_JA),
    ("prefecture", "Atlantis", "en", "“Atlantis” is not a Japanese prefecture."),
    ("prefecture", "99", "en", "“99” is not a Japanese prefecture."),
    ("prefecture", "青森市", "en", "is not a Japanese prefecture."),
    ("medical_registration_number", "abc", "en", "The medical registration number is up to 7 digits."),
    ("medical_registration_number", "12345678", "en", "The medical registration number is up to 7 digits."),
    ("medical_registration_number", "12a456", "en", "The medical registration number is up to 7 digits."),
    (
        "attest_healthcare_professional",
        None,
        "en",
        "Renkei is for healthcare professionals only: please confirm that you are one.",
    ),
    (
        "attest_healthcare_professional",
        "",
        "en",
        "Renkei is for healthcare professionals only: please confirm that you are one.",
    ),
    ("privacy_consent", None, "en", "Please read and agree to the privacy notice to register."),
    ("privacy_consent", "false", "en", "Please read and agree to the privacy notice to register."),
]


@pytest.mark.parametrize(
    ("field", "value", "language", "fragment"),
    INVALID,
    ids=[f"{f}-{'missing' if v is None else repr(v)[:16]}" for f, v, _l, _m in INVALID],
)
def test_it_rejects_an_invalid_value_with_an_error_on_that_field_only(field, value, language, fragment):
    errors = errors_for(form_data(**{field: value}), language)
    assert list(errors) == [field]
    assert errors[field] and all(message.strip() for message in errors[field])
    assert any(fragment in message for message in errors[field]), errors[field]


@pytest.mark.parametrize(
    "field",
    [
        "full_name",
        "name_kana",
        "email",
        "specialty",
        "facility_name",
        "facility_type",
        "prefecture",
    ],
)
def test_it_says_in_japanese_that_a_required_field_is_missing(field):
    errors = errors_for(form_data(**{field: None}), "ja")
    assert errors == {field: [REQUIRED_JA]}


def test_it_says_in_english_that_a_required_field_is_missing_for_an_english_visitor():
    errors = errors_for(form_data(email=None), "en")
    assert errors == {"email": [REQUIRED_EN]}


def test_an_empty_form_gets_an_error_on_every_required_field_and_none_on_the_optional_ones():
    errors = errors_for({}, "ja")
    assert set(errors) == {
        "full_name",
        "name_kana",
        "email",
        "specialty",
        "facility_name",
        "facility_type",
        "prefecture",
        "attest_healthcare_professional",
        "privacy_consent",
    }
    assert errors["full_name"] == [REQUIRED_JA]


def test_the_too_long_name_error_is_in_japanese_and_says_how_long_it_is():
    errors = errors_for(form_data(full_name=LONG_NAME), "ja")
    assert errors["full_name"] == ["この値は 100 文字以下でなければなりません( 101 文字になっています)。"]


def test_an_unknown_specialty_error_names_the_value_in_japanese():
    errors = errors_for(form_data(specialty="astrology"), "ja")
    assert errors["specialty"] == ["正しく選択してください。 astrology は候補にありません。"]


def test_it_rejects_c1_control_characters_in_the_full_name():
    # U+0080–U+009F are control characters too (Unicode category Cc), e.g. CSI, which
    # a terminal or a CSV viewer may act on.
    errors = errors_for(form_data(full_name="青森\x9b31m花子"), "en")
    assert list(errors) == ["full_name"]


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("full_name", "㍻" * 60, 100),  # ㍻ (1 character) is folded to 平成 (2 characters)
        ("name_kana", "ヿ" * 60, 100),  # ヿ is folded to コト
        ("facility_name", "㈱" * 100, 200),  # ㈱ is folded to (株)
    ],
    ids=["full_name-heisei", "name_kana-koto", "facility_name-kabushiki"],
)
def test_it_never_accepts_a_value_that_is_longer_than_its_limit_once_normalised(field, value, limit):
    # What the form passes on is saved as is; the database column holds `limit` characters.
    form = RegistrationForm(form_data(**{field: value}))
    if form.is_valid():
        assert len(form.cleaned_data[field]) <= limit
    else:
        assert list(form.errors) == [field]
