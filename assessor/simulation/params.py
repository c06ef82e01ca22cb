"""The simulated world's parameters: loaded from ``data/simulation.toml`` and validated.

Every leaf in the file is ``{ value = ..., source = "..." }`` so a mediator's office can see
where each number comes from. The loader checks that every source names a published figure
([S..] id), a regulation (document number) or says "assumption", then validates the values.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_SOURCE_OK = re.compile(r"\[S\d+[a-z]?\]|assumption|regulation|〔\d{4}〕", re.IGNORECASE)


class ParameterFileError(ValueError):
    """The parameter file is malformed; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(ge=0, le=1, description="a probability")]


def _check_weights(name: str, weights: dict[str, float], required: set[str] | None = None) -> None:
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"{name}: weights must be non-negative and not all zero")
    if required is not None and set(weights) != required:
        raise ValueError(f"{name}: expected keys {sorted(required)}, got {sorted(weights)}")


class Dates(_Section):
    first_day: date
    last_day: date
    year_weights: list[float]
    window_days_median: float = Field(gt=0)
    window_days_sigma: float = Field(ge=0)
    window_days_max: int = Field(ge=1)
    caps_effective: date
    guest_abolished: date
    payment_face_checks_from: date
    night_patrol_from: date

    @model_validator(mode="after")
    def _years(self) -> Dates:
        years = self.last_day.year - self.first_day.year + 1
        if len(self.year_weights) != years:
            raise ValueError(f"year_weights needs one weight per year {self.first_day.year}..{self.last_day.year}")
        return self


class Scenario(_Section):
    child_paid: Share
    adult_false_claim: Share
    mixed: Share
    mixed_minor_majority: Share
    mixed_majority_episode_share: tuple[float, float]

    @model_validator(mode="after")
    def _sum_to_one(self) -> Scenario:
        total = self.child_paid + self.adult_false_claim + self.mixed
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"child_paid + adult_false_claim + mixed must be 1, got {total}")
        return self

    @property
    def expected_minor_share(self) -> float:
        """P(label.minor_payer): child-paid cases plus mixed cases where the child paid more."""
        return self.child_paid + self.mixed * self.mixed_minor_majority


class Household(_Section):
    child_age_weights: list[float] = Field(min_length=13, max_length=13)
    parent_age_at_birth: tuple[int, int]
    second_guardian: Share
    grandparent_carer: Share
    grandparent_age_gap: tuple[int, int]
    grandparent_claims: Share


class AccountParams(_Section):
    child_player_holder: dict[str, float]
    guest_share_of_own_id: Share
    adult_player_holder: dict[str, float]
    created_days_before: tuple[int, int]
    unverified_before_caps: Share
    holder_unknown: Share
    id_masked: Share
    birth_date_only: Share
    real_name_missing: Share

    @model_validator(mode="after")
    def _holders(self) -> AccountParams:
        _check_weights("child_player_holder", self.child_player_holder, {"own_id", "parent", "grandparent", "other_adult"})
        _check_weights("adult_player_holder", self.adult_player_holder, {"parent", "child", "grandparent", "other_adult"})
        return self


class Platform(_Section):
    compliant_by_year: list[float]
    face_check_capable: Share
    kinds: dict[str, float]
    channels_android: dict[str, float]
    channels_ios: dict[str, float]
    second_channel: Share


class Caps(_Section):
    under_8: tuple[float, float]
    age_8_to_15: tuple[float, float]
    age_16_to_17: tuple[float, float]
    downgrade_when_blocked: Share

    def for_age(self, age: int) -> tuple[float, float]:
        """(max per payment, max per calendar month) for a verified minor of this age."""
        if age < 8:
            return self.under_8
        if age < 16:
            return self.age_8_to_15
        return self.age_16_to_17


def _hours(value: list[float]) -> list[float]:
    if len(value) != 24 or any(v < 0 for v in value):
        raise ValueError("an hour table needs 24 non-negative weights (hour 0 to 23)")
    return value


class Timing(_Section):
    child_day_weights: dict[str, float]
    adult_day_weights: dict[str, float]
    payday_boost: float = Field(ge=1)
    paydays: list[int]
    child_primary_school_day: list[float]
    child_secondary_school_day: list[float]
    child_free_day: list[float]
    child_online_class_day: list[float]
    adult_office_work_day: list[float]
    adult_shift_work_day: list[float]
    adult_free_day: list[float]
    adult_retired_day: list[float]
    adult_worker_types: dict[str, float]
    child_night_owl: Share
    adult_night_owl: Share
    night_owl_factor: float = Field(ge=1)

    _hour_tables = field_validator(
        "child_primary_school_day", "child_secondary_school_day", "child_free_day", "child_online_class_day",
        "adult_office_work_day", "adult_shift_work_day", "adult_free_day", "adult_retired_day",
    )(_hours)

    @model_validator(mode="after")
    def _keys(self) -> Timing:
        _check_weights("child_day_weights", self.child_day_weights,
                       {"school", "weekend", "holiday", "vacation", "online_class", "working_weekend"})
        _check_weights("adult_day_weights", self.adult_day_weights, {"work", "off", "holiday", "home"})
        _check_weights("adult_worker_types", self.adult_worker_types, {"office", "shift", "flexible"})
        return self


class Game(_Section):
    name: str
    tiers: list[float] = Field(min_length=1)
    item: str
    membership: float
    # "pass" is a Python keyword, so the field is battle_pass with the file's key as alias.
    battle_pass: float = Field(alias="pass")


class Spending(_Section):
    common_tiers: list[float]
    games: list[Game] = Field(min_length=1)
    child_episodes_per_week: tuple[float, float]
    adult_episodes_per_week: tuple[float, float]
    burst_continue: dict[str, float]
    burst_gap_minutes: tuple[float, float]
    child_escalation: float = Field(ge=0)
    child_start_tier: tuple[int, int]
    child_big_pack_share: Share
    adult_tier_weights: list[float]
    membership_share: dict[str, float]
    double_membership: Share
    child_payment_means: dict[str, float]
    password_free_limit: float = Field(gt=0)
    acknowledged_adult_payments: Share

    @model_validator(mode="after")
    def _keys(self) -> Spending:
        _check_weights("child_payment_means", self.child_payment_means,
                       {"knows_password", "password_free", "own_wallet"})
        if len(self.adult_tier_weights) != len(self.common_tiers):
            raise ValueError("adult_tier_weights needs one weight per common tier")
        return self


class FaceChecks(_Section):
    payment_monthly_trigger: float
    suspect_child_payment: Share
    suspect_adult_payment: Share
    elderly_holder_factor: float = Field(ge=1)
    parent_passes_for_child: Share
    child_outcomes: dict[str, float]
    adult_outcomes: dict[str, float]
    night_patrol: Share
    match_unknown: Share
    block_hours: float = Field(ge=0)


class Sessions(_Section):
    as_login_traces: Share
    play_sessions_per_day: dict[str, float]
    duration_minutes: tuple[float, float]
    before_payment_minutes: tuple[float, float]
    other_player_plays: Share
    spare_phone: Share
    tablet: Share
    child_uses_parent_phone: Share
    max_sessions: int = Field(ge=1)


class ChatParams(_Section):
    present: Share
    never_chats: dict[str, float]
    messages_per_hour: tuple[float, float]
    child_register: dict[str, float]
    adult_register: dict[str, float]
    other_speakers_per_hour: float = Field(ge=0)
    other_register: dict[str, float]
    channels: dict[str, float]
    max_messages: int = Field(ge=1)


class Noise(_Section):
    sessions_missing: Share
    face_checks_missing: Share
    clock_skew: Share
    clock_skew_minutes: float = Field(ge=0)
    utc_session_log: Share
    duplicate_recharge: Share
    duplicate_chat: Share
    offset_timestamps: Share
    slash_timestamps: Share
    device_missing: Share
    failed_attempts_kept: Share


class Filing(_Section):
    reference_amount: float = Field(gt=0)
    exponent: float = Field(ge=0)
    floor: Share


class SimulationParams(_Section):
    """All parameters of the simulated world. ``sources`` maps 'section.name' to its source note."""

    version: str
    dates: Dates
    scenario: Scenario
    household: Household
    account: AccountParams
    platform: Platform
    caps: Caps
    timing: Timing
    spending: Spending
    face_checks: FaceChecks
    sessions: Sessions
    chat: ChatParams
    noise: Noise
    filing: Filing
    sources: dict[str, str] = Field(default_factory=dict, repr=False)

    @classmethod
    def default(cls) -> SimulationParams:
        """The packaged parameters (cached: the file is read once)."""
        return _default_params()

    @classmethod
    def from_toml(cls, text: str, *, name: str = "simulation.toml") -> SimulationParams:
        """Parse and validate a parameter file; errors name the key at fault."""
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ParameterFileError(f"{name}: not valid TOML: {exc}") from None
        values, sources = _split_sources(raw, name)
        try:
            return cls.model_validate({**values, "sources": sources})
        except ValidationError as exc:
            raise ParameterFileError(f"{name}: {exc}") from None


def _split_sources(raw: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn ``{value, source}`` leaves into plain values, checking that each source is stated."""
    values: dict[str, Any] = {"version": raw.get("version")}
    sources: dict[str, str] = {}
    for section, table in raw.items():
        if section == "version":
            continue
        if not isinstance(table, dict):
            raise ParameterFileError(f"{name}: [{section}] must be a table of parameters")
        values[section] = {}
        for key, leaf in table.items():
            path = f"{section}.{key}"
            if not isinstance(leaf, dict) or set(leaf) != {"value", "source"}:
                raise ParameterFileError(f"{name}: {path} must be {{ value = ..., source = \"...\" }}")
            source = leaf["source"]
            if not isinstance(source, str) or not _SOURCE_OK.search(source):
                raise ParameterFileError(
                    f"{name}: {path} source must cite an [S..] id, a regulation, or say 'assumption'"
                )
            values[section][key] = leaf["value"]
            sources[path] = source
    return values, sources


@cache
def _default_params() -> SimulationParams:
    text = resources.files("assessor.data").joinpath("simulation.toml").read_text(encoding="utf-8")
    return SimulationParams.from_toml(text)


class ChatTemplates(_Section):
    version: str
    source: str
    slots: dict[str, list[str]]
    registers: dict[str, list[str]]
    statements: dict[str, list[str]]

    @model_validator(mode="after")
    def _registers(self) -> ChatTemplates:
        missing = {"neutral", "child", "adult", "parent"} - set(self.registers)
        if missing:
            raise ValueError(f"chat templates lack registers {sorted(missing)}")
        if not _SOURCE_OK.search(self.source):
            raise ValueError("chat templates need a source note")
        return self


@cache
def default_chat_templates() -> ChatTemplates:
    """The packaged chat templates (the simulator's own vocabulary)."""
    text = resources.files("assessor.data").joinpath("chat_templates.toml").read_text(encoding="utf-8")
    try:
        return ChatTemplates.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        raise ParameterFileError(f"chat_templates.toml: {exc}") from None
