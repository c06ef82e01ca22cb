"""ID numbers per GB 11643-1999: what a mediator relies on to tell whose identity an account uses
and how old that person was when each payment was made."""

import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessor.idcard import IdNumber, age_at, check_char, is_valid, mask, parse_id, upgrade15

STANDARD_EXAMPLE = "11010519491231002X"  # the example printed in GB 11643-1999
TODAY = date(2024, 7, 21)
# The standard's weight table, written out as printed, as an oracle independent of the code.
TEXTBOOK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, TEXTBOOK_WEIGHTS, strict=True)) % 11]


def test_the_standards_example_is_valid_and_belongs_to_a_woman_born_on_new_years_eve_1949():
    parsed = parse_id(STANDARD_EXAMPLE, reference=TODAY)
    assert parsed.valid is True and not parsed.masked and parsed.problems == ()
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"  # sequence 002 is even
    assert parsed.region_code == "110105"
    assert check_char(STANDARD_EXAMPLE[:17]) == "X"


def test_a_changed_check_character_is_invalid_and_says_what_was_expected():
    parsed = parse_id("110105194912310023")
    assert parsed.valid is False
    assert parsed.problems == ("check digit is 3, expected X",)
    assert parsed.birth_date == date(1949, 12, 31)  # still the best guess when nothing else is known


def test_lower_case_x_whitespace_and_full_width_digits_are_normalised():
    for typed in ("11010519491231002x", " 110105 19491231 002X\n", "１１０１０５１９４９１２３１００２Ｘ"):
        parsed = parse_id(typed)
        assert parsed.valid is True and parsed.normalized == STANDARD_EXAMPLE


def test_an_odd_sequence_digit_is_a_man():
    assert parse_id(with_check("44030620051108013")).sex == "male"


def test_old_15_digit_ids_upgrade_to_the_18_digit_form():
    assert upgrade15("110105491231002") == STANDARD_EXAMPLE
    parsed = parse_id("110105491231002")
    assert parsed.valid is True and parsed.normalized == STANDARD_EXAMPLE
    assert parsed.birth_date == date(1949, 12, 31) and parsed.sex == "female"
    with pytest.raises(ValueError) as error:
        upgrade15("11010549123100")
    assert "11010549123100" not in str(error.value)


def test_an_impossible_birth_date_is_invalid_even_with_the_right_check_character():
    parsed = parse_id(with_check("31010419990230123"))
    assert parsed.valid is False and parsed.birth_date is None
    assert parsed.problems == ("birth date in the number is not a real date",)
    assert not is_valid(with_check("31010418991231123"))  # before 1900
    assert not is_valid(with_check("31010419490229123"))  # 1949 was not a leap year


def test_a_birth_date_after_the_reference_date_is_invalid():
    number = with_check("31010420240722123")
    assert not is_valid(number, reference=date(2024, 7, 21))
    assert is_valid(number, reference=datetime(2024, 7, 22, 8, 0))
    assert "after the reference date 2024-07-21" in parse_id(number, reference=TODAY).problems[0]


def test_garbage_is_reported_not_raised():
    assert parse_id(None) is None and parse_id("") is None and parse_id("   ") is None
    assert parse_id("身份证号码未提供").problems == ("contains characters other than digits, X and *",)
    assert parse_id("1101051949123100").problems == ("expected 18 characters (or 15 for the old form), got 16",)
    assert parse_id("1101X5194912310021").problems == ("X may only be the last character",)
    assert parse_id("11010519491231002").valid is False


def test_age_the_day_before_on_and_after_a_birthday():
    born = date(2016, 3, 10)
    assert age_at(born, date(2024, 3, 9)) == 7
    assert age_at(born, date(2024, 3, 10)) == 8
    assert age_at(born, date(2024, 3, 11)) == 8


def test_age_at_a_datetime_uses_its_local_calendar_date():
    born = date(2016, 3, 10)
    assert age_at(born, datetime(2024, 3, 9, 23, 59, 59)) == 7
    assert age_at(born, datetime(2024, 3, 10, 0, 0, 1)) == 8


def test_29_february_birthdays_complete_a_year_on_1_march_in_non_leap_years():
    born = date(2008, 2, 29)
    assert age_at(born, date(2024, 2, 28)) == 15
    assert age_at(born, date(2024, 2, 29)) == 16  # leap year: the birthday itself
    assert age_at(born, date(2026, 2, 28)) == 17  # non-leap year: still a minor on 28 February
    assert age_at(born, date(2026, 3, 1)) == 18


def test_age_before_birth_is_an_error_for_the_function_and_unknown_for_the_id():
    with pytest.raises(ValueError):
        age_at(date(2016, 3, 10), date(2016, 3, 9))
    parsed = parse_id(with_check("11010520160310004"), reference=TODAY)
    assert parsed.age_at(date(2016, 3, 9)) is None
    assert parsed.age_at(datetime(2024, 7, 21, 22, 14, 5)) == 8


def test_a_masked_id_with_a_given_birth_date_gives_the_age_but_no_checksum_verdict():
    parsed = parse_id("3101**********1234", birth_date=date(2011, 6, 1))
    assert parsed.masked and parsed.valid is None
    assert parsed.normalized == "3101**********1234"
    assert parsed.age_at(date(2024, 5, 31)) == 12 and parsed.age_at(date(2024, 6, 1)) == 13
    assert not is_valid("3101**********1234")


def test_masked_ids_read_what_the_mask_leaves_visible():
    first6_last4 = parse_id("110105********002X")
    assert (first6_last4.region_code, first6_last4.sex, first6_last4.birth_date) == ("110105", "female", None)
    assert any("age unknown" in p for p in first6_last4.problems)
    date_visible = parse_id("11010519491231****")
    assert date_visible.birth_date == date(1949, 12, 31) and date_visible.valid is None
    first1_last1 = parse_id("1****************X")
    assert first1_last1.masked and first1_last1.valid is None and first1_last1.sex is None
    short_mask = parse_id("1101****0013")  # star count shorter than the hidden part
    assert short_mask.masked and short_mask.sex == "male"
    old_form = parse_id(mask("110105491231001"))  # a masked 15-digit number keeps its layout
    assert old_form.masked and old_form.sex == "male" and old_form.normalized == "1101********001"
    too_long = parse_id("110105194912310021**12")
    assert too_long.valid is False and too_long.problems == ("masked number shows more characters than an ID number has",)


def test_a_masked_id_whose_visible_date_is_impossible_is_invalid():
    parsed = parse_id("31010419990230****")
    assert parsed.valid is False and parsed.birth_date is None


def test_a_given_birth_date_that_disagrees_loses_to_a_valid_number_and_wins_over_a_broken_one():
    given_date = date(2012, 5, 3)
    valid = parse_id(STANDARD_EXAMPLE, birth_date=given_date)
    assert valid.valid is True and valid.birth_date == date(1949, 12, 31)
    assert valid.problems == ("given birth date 2012-05-03 differs from the one in the number; the number's date is used",)
    broken = parse_id("110105194912310023", birth_date=given_date)
    assert broken.valid is False and broken.birth_date == given_date
    masked = parse_id("11010519491231****", birth_date=given_date)
    assert masked.birth_date == date(1949, 12, 31) and len(masked.problems) == 1


def test_a_given_birth_date_in_the_future_is_dropped_with_a_reason():
    parsed = parse_id("3101**********1234", birth_date=date(2031, 1, 1), reference=TODAY)
    assert parsed.birth_date is None
    assert any("2031-01-01" in p for p in parsed.problems)


def test_mask_keeps_four_and_four_and_never_the_birth_date():
    assert mask(STANDARD_EXAMPLE) == "1101**********002X"
    assert mask("11010519491231002x") == "1101**********002X"
    assert mask("110105491231002") == "1101********002"  # 15 digits: the date ends at the 12th
    assert mask(None) is None
    assert mask("3101**********1234") == "3101**********1234"
    assert mask("1234567") == "*******"


def test_repr_and_str_never_show_the_raw_number_or_its_birth_date():
    for number in (STANDARD_EXAMPLE, "110105491231002", "110105194912310023"):
        parsed = parse_id(number)
        for shown in (repr(parsed), str(parsed), f"{parsed}", repr([parsed])):
            assert number not in shown and "1949" not in shown and "491231" not in shown
        assert all("491231" not in p for p in parsed.problems)
    assert str(parse_id(STANDARD_EXAMPLE)) == "1101**********002X"


def test_error_messages_never_quote_the_number():
    with pytest.raises(ValueError) as error:
        check_char("1101051949123100")
    assert "1101051949123100" not in str(error.value)


ids_17 = st.builds(
    lambda region, born, seq: f"{region:06d}{born:%Y%m%d}{seq:03d}",
    st.integers(0, 999_999), st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 999))


@given(ids_17)
def test_check_char_matches_the_standards_weight_table(first17):
    assert first17 + check_char(first17) == with_check(first17)


@given(ids_17, st.characters())
def test_the_right_check_character_validates_and_any_other_does_not(first17, other):
    right = check_char(first17)
    assert is_valid(first17 + right, reference=TODAY)
    if "".join(unicodedata.normalize("NFKC", other).split()).upper() != right:
        assert not is_valid(first17 + other, reference=TODAY)
    for wrong in "0123456789X".replace(right, ""):
        assert not is_valid(first17 + wrong, reference=TODAY)


@given(ids_17)
def test_masking_any_valid_number_hides_everything_but_four_and_four(first17):
    number = first17 + check_char(first17)
    masked = mask(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:] and masked[4:14] == "*" * 10
    assert parse_id(masked).valid is None


@given(st.text())
def test_parse_id_never_raises_on_arbitrary_text(text):
    parsed = parse_id(text)
    assert parsed is None or isinstance(parsed, IdNumber)
    assert parsed is None or parsed.valid in (True, False, None)
    assert mask(text) is not None


def birthday_in(year: int, born: date) -> date:
    """The day a birthday is celebrated: 29 February falls back to 1 March in non-leap years."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_age_is_the_number_of_birthdays_passed(born, moment):
    if moment < born:
        return
    passed = sum(1 for year in range(born.year + 1, moment.year + 1) if birthday_in(year, born) <= moment)
    assert age_at(born, moment) == passed
