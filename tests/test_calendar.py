"""School calendar: what a mediator reads off a payment's date and hour."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.calendar import CalendarFileError, SchoolCalendar, TimeBand

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> SchoolCalendar:
    return SchoolCalendar.default()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def write(tmp_path, text: str):
    path = tmp_path / "office_calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- holidays and 调休 -------------------------------------------------------------------


def test_working_sunday_in_spring_festival_season_is_a_working_weekend_but_inside_winter_vacation(cal):
    info = cal.day(date(2025, 1, 26))
    assert info.is_weekend and info.is_working_weekend
    assert not info.is_statutory_holiday
    assert info.vacation == "winter"
    assert not info.is_school_day


@pytest.mark.parametrize("d", [date(2024, 10, 12), date(2023, 10, 7)])
def test_working_saturday_outside_vacation_is_a_school_day(cal, d):
    info = cal.day(d)
    assert info.is_weekend and info.is_working_weekend and info.vacation is None
    assert info.is_school_day
    assert cal.is_school_hours(at(d.year, d.month, d.day, 10))


def test_ordinary_saturday_is_not_a_school_day(cal):
    info = cal.day(date(2024, 10, 19))
    assert info.is_weekend and not info.is_working_weekend and not info.is_school_day


def test_national_day_is_a_statutory_holiday_without_school(cal):
    info = cal.day(date(2024, 10, 1))
    assert info.is_statutory_holiday and info.holiday_name == "National Day"
    assert not info.is_weekend and not info.is_school_day
    assert not cal.is_school_hours(at(2024, 10, 1, 10))


def test_term_time_tuesday_is_a_school_day_with_school_hours_only_in_the_daytime(cal):
    assert cal.day(date(2024, 3, 12)).is_school_day
    assert cal.is_school_hours(at(2024, 3, 12, 10))
    assert not cal.is_school_hours(at(2024, 3, 12, 18))


def test_july_weekday_is_summer_vacation_not_school(cal):
    info = cal.day(date(2024, 7, 10))
    assert info.weekday == 2 and info.vacation == "summer"
    assert not info.is_school_day
    assert not cal.is_school_hours(at(2024, 7, 10, 10))


def test_day_accepts_a_datetime_and_answers_for_its_date(cal):
    assert cal.day(at(2024, 10, 1, 23, 59)) is cal.day(date(2024, 10, 1))


# --- vacations computed from the Spring Festival -------------------------------------------


def test_winter_vacation_contains_that_years_spring_festival(cal):
    start, end = cal.vacation_window("winter", 2024)
    assert start < date(2024, 2, 10) < end
    assert cal.day(date(2024, 2, 10)).vacation == "winter"


def test_winter_vacation_moves_with_the_lunar_calendar(cal):
    w2024, w2025 = cal.vacation_window("winter", 2024), cal.vacation_window("winter", 2025)
    assert w2024 != w2025
    # same distance from the festival each year: computed, not tabulated
    assert date(2024, 2, 10) - w2024[0] == date(2025, 1, 29) - w2025[0]
    assert w2024[1] - date(2024, 2, 10) == w2025[1] - date(2025, 1, 29)


def test_winter_vacation_starting_in_december_counts_for_that_december(tmp_path):
    office = SchoolCalendar.from_file(write(tmp_path, """
version = "2024.09.1"
[[vacations]]
name = "winter"
days_before = 40
"""))
    start, _ = office.vacation_window("winter", 2025)  # festival 2025-01-29
    assert start.year == 2024
    assert office.day(start).vacation == "winter"
    assert office.day(start - timedelta(days=1)).vacation is None


# --- closures ----------------------------------------------------------------------------------


def test_2020_national_postponement_makes_term_time_a_closure_day(cal):
    moment = at(2020, 3, 3, 10)
    info = cal.day(moment.date())
    assert info.closure == "cn_2020_covid_postponement"
    assert not info.is_school_day
    assert cal.time_band(moment) is TimeBand.school_hours
    assert not cal.is_school_hours(moment)


def test_shanghai_spring_2022_lockdown_is_a_closure(cal):
    info = cal.day(date(2022, 4, 15))
    assert info.closure == "sh_2022_lockdown" and not info.is_school_day


def test_office_of_another_region_keeps_national_closures_only(tmp_path):
    office = SchoolCalendar.from_file(write(tmp_path, 'version = "2024.09.1"\nregion = "Guangdong"\n'))
    assert office.day(date(2022, 4, 15)).closure is None
    assert office.day(date(2022, 4, 15)).is_school_day
    assert office.day(date(2020, 3, 3)).closure == "cn_2020_covid_postponement"


# --- time bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute", "band"), [
    (0, 0, TimeBand.late_night), (5, 59, TimeBand.late_night), (6, 0, TimeBand.early_morning),
    (7, 59, TimeBand.early_morning), (8, 0, TimeBand.school_hours), (16, 29, TimeBand.school_hours),
    (16, 30, TimeBand.after_school), (21, 29, TimeBand.after_school), (21, 30, TimeBand.bedtime),
    (23, 59, TimeBand.bedtime),
])
def test_time_band_boundaries(cal, hour, minute, band):
    assert cal.time_band(at(2024, 3, 12, hour, minute)) is band


# --- play-time rules for minors ----------------------------------------------------------------


def test_friday_evening_hour_was_allowed_under_the_2021_rule(cal):
    moment = at(2023, 3, 3, 20, 30)
    assert cal.minor_play_allowed(moment) is True
    rule = cal.play_rule(moment)
    assert rule.id == "nppa2021" and "国新出发〔2021〕14号" in rule.citation
    assert rule.summary_en and rule.summary_zh


def test_tuesday_evening_hour_was_not_allowed_under_the_2021_rule(cal):
    assert cal.minor_play_allowed(at(2023, 3, 7, 20, 30)) is False


def test_the_2021_hour_ends_at_21_00(cal):
    assert cal.minor_play_allowed(at(2023, 3, 3, 20, 59)) is True
    assert cal.minor_play_allowed(at(2023, 3, 3, 21, 0)) is False
    assert cal.minor_play_allowed(at(2023, 3, 3, 19, 59)) is False


def test_working_saturday_is_not_a_play_day_but_a_holiday_tuesday_is(cal):
    assert cal.minor_play_allowed(at(2024, 10, 12, 20, 30)) is False
    assert cal.minor_play_allowed(at(2024, 10, 1, 20, 30)) is True


def test_late_night_in_2020_broke_the_2019_curfew(cal):
    assert cal.minor_play_allowed(at(2020, 3, 3, 23)) is False
    assert cal.minor_play_allowed(at(2020, 3, 3, 21)) is True
    assert cal.play_rule(at(2020, 3, 3, 23)).document == "国新出发〔2019〕34号"


def test_no_national_rule_before_november_2019(cal):
    assert cal.minor_play_allowed(at(2019, 10, 31, 23)) is None
    assert cal.play_rule(at(2019, 10, 31, 23)) is None
    assert cal.minor_play_allowed(at(2019, 11, 1, 23)) is False


def test_play_rules_are_judged_on_beijing_time(cal):
    moment = datetime(2023, 3, 3, 12, 30, tzinfo=UTC)  # 20:30 in Beijing
    assert cal.minor_play_allowed(moment) is True


# --- office calendar files ---------------------------------------------------------------------


def test_office_file_moves_summer_vacation_and_adds_a_closure(tmp_path):
    office = SchoolCalendar.from_file(write(tmp_path, """
version = "2024.09.1"
office = "某区市场监管局"
[[vacations]]
name = "summer"
start = "07-15"
[[closures]]
id = "district_flood_2024"
name_en = "Schools closed for flooding"
start = 2024-06-17
end = 2024-06-21
region = "Guangdong"
source = "district education bureau notice"
"""))
    assert office.day(date(2024, 7, 10)).is_school_day
    assert office.day(date(2024, 7, 16)).vacation == "summer"
    assert office.day(date(2024, 8, 30)).vacation == "summer"  # end kept from the defaults
    assert office.day(date(2024, 6, 18)).closure == "district_flood_2024"
    assert not office.day(date(2024, 6, 18)).is_school_day
    assert office.version == f"{SchoolCalendar.default().version}+2024.09.1"
    assert SchoolCalendar.default().day(date(2024, 7, 10)).vacation == "summer"  # defaults untouched


def test_office_file_can_give_exact_term_dates_for_a_year(tmp_path):
    office = SchoolCalendar.from_file(write(tmp_path, """
version = "2024.09.1"
[[vacations]]
name = "winter"
[vacations.by_year]
2024 = [2024-01-27, 2024-02-25]
"""))
    assert office.vacation_window("winter", 2024) == (date(2024, 1, 27), date(2024, 2, 25))
    assert office.day(date(2024, 1, 26)).is_school_day
    assert office.day(date(2024, 2, 23)).vacation == "winter"
    assert office.vacation_window("winter", 2025) == SchoolCalendar.default().vacation_window("winter", 2025)


@pytest.mark.parametrize(("body", "field"), [
    ('[[vacations]]\nname = "summer"\nstart = "13-01"\n', "vacations[summer].start"),
    ('[bands]\nschool_hours = ["08:00", "17:00"]\n', "bands"),
    ('[[closures]]\nid = "x"\nstart = 2024-05-06\nend = 2024-05-01\nregion = "CN"\nsource = "s"\n', "closures[x]"),
    ('summer_start = "07-05"\n', "summer_start"),
    ('timezone = "Beijing"\n', "timezone"),
])
def test_bad_office_file_names_the_file_and_the_field(tmp_path, body, field):
    path = write(tmp_path, 'version = "2024.09.1"\n' + body)
    with pytest.raises(CalendarFileError) as err:
        SchoolCalendar.from_file(path)
    assert str(path) in str(err.value)
    assert f"{field}:" in str(err.value)


def test_office_file_without_version_or_with_broken_toml_is_refused(tmp_path):
    with pytest.raises(CalendarFileError, match="version: missing"):
        SchoolCalendar.from_file(write(tmp_path, 'region = "Shanghai"\n'))
    with pytest.raises(CalendarFileError, match="not valid TOML"):
        SchoolCalendar.from_file(write(tmp_path, 'version = "2024.09.1\n'))


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_warning_only_for_years_without_announced_working_weekends(cal):
    assert cal.coverage_warning(2024) is None
    warning = cal.coverage_warning(2035)
    assert warning and "2035" in warning and "调休" in warning


def test_years_beyond_the_holiday_data_still_get_answers(cal):
    assert cal.day(date(2035, 10, 1)).is_statutory_holiday
    assert cal.day(date(2035, 7, 10)).vacation == "summer"
    assert cal.vacation_window("winter", 2035) is not None


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59),
                    timezones=st.just(SH)))
def test_any_moment_gets_consistent_answers(moment):
    cal = SchoolCalendar.default()
    info = cal.day(moment.date())
    assert isinstance(cal.time_band(moment), TimeBand)
    allowed = cal.minor_play_allowed(moment)
    assert (allowed is None) == (moment.date() < date(2019, 11, 1))
    if cal.is_school_hours(moment):
        assert info.is_school_day and cal.time_band(moment) is TimeBand.school_hours
    if info.is_school_day:
        assert info.vacation is None and info.closure is None and not info.is_statutory_holiday
