"""ID numbers per GB 11643-1999: what a mediator relies on when the account's holder is an adult or a child."""

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from assessor.idcard import age_at, check_char, is_valid, mask, parse_id, upgrade15

STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid_and_female():
    parsed = parse_id(STANDARD_EXAMPLE)
    assert parsed.valid is True
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"


def test_a_changed_check_character_is_invalid_with_a_reason():
    parsed = parse_id("110105194912310021")
    assert parsed.valid is False
    assert any("expected X" in p for p in parsed.problems)


def test_an_impossible_birth_date_is_invalid():
    first17 = "31010419990230123"
    assert not is_valid(first17 + check_char(first17))


def test_old_15_digit_ids_upgrade_to_18():
    upgraded = upgrade15("110105491231002")
    assert upgraded == STANDARD_EXAMPLE
    assert parse_id("110105491231002").birth_date == date(1949, 12, 31)


def test_age_before_on_and_after_a_birthday():
    born = date(2016, 3, 10)
    assert age_at(born, date(2024, 3, 9)) == 7
    assert age_at(born, date(2024, 3, 10)) == 8
    assert age_at(born, datetime(2024, 3, 11, 0, 5)) == 8


def test_29_february_birthdays():
    born = date(2008, 2, 29)
    assert age_at(born, date(2026, 2, 28)) == 17
    assert age_at(born, date(2026, 3, 1)) == 18
    assert age_at(born, date(2024, 2, 29)) == 16


def test_masked_id_with_birth_date_gives_age_but_no_checksum_verdict():
    parsed = parse_id("3101**********1234", birth_date=date(2011, 6, 1))
    assert parsed.masked and parsed.valid is None
    assert parsed.age_at(date(2024, 7, 1)) == 13


def test_mask_keeps_four_and_four_and_hides_the_birth_date():
    masked = mask(STANDARD_EXAMPLE)
    assert masked == "1101**********002X"
    assert "19491231" not in masked


def test_repr_and_str_never_show_the_raw_number():
    parsed = parse_id(STANDARD_EXAMPLE)
    assert STANDARD_EXAMPLE not in repr(parsed) and STANDARD_EXAMPLE not in str(parsed)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
       st.integers(min_value=110000, max_value=659999), st.integers(min_value=0, max_value=999))
def test_the_right_check_character_validates_and_any_other_does_not(born, region, seq):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    right = check_char(first17)
    assert is_valid(first17 + right)
    for wrong in "0123456789X".replace(right, "")[:3]:
        assert not is_valid(first17 + wrong)


@given(st.text())
def test_parse_id_never_raises(text):
    parse_id(text)
