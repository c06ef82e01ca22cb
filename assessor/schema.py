"""The contract: a case (one refund dispute) and its assessment, as pydantic v2 models.

This module imports nothing else of the package, so any tool can depend on it.
The field names and enums follow ``shared/spec/case-format.md`` (format version 1);
fields may be added, never renamed or dropped, without a new format version.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

CASE_FORMAT = "assessor.case/1"
ASSESSMENT_FORMAT = "assessor.assessment/1"
DEFAULT_TIMEZONE = "Asia/Shanghai"

# Unix timestamps above this are milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 100_000_000_000
_CHINESE_DATE = re.compile(
    r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:(\d{1,2})\s*[:：时]\s*(\d{1,2})"
    r"(?:\s*[:：分]\s*(\d{1,2})\s*秒?)?\s*分?)?\s*$"
)


def parse_timestamp(value: Any) -> Any:
    """Turn the timestamp forms seen in evidence exports into a ``datetime``.

    Accepts ISO 8601, ``2024/07/21 22:14``, ``2024-07-21 22:14:05``, ``2024年7月21日 22:14``,
    and unix seconds or milliseconds (numbers, or strings of digits). Naive results stay
    naive: the case's timezone is applied later, by :class:`Case`. Anything else is passed
    through for pydantic to reject with its own message.
    """
    if type(value) is str and len(value) >= 10:
        fast = _fast_timestamp(value)
        if fast is not None:
            return fast
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return value  # pydantic rejects it; True is not a time
    if isinstance(value, (int, float, Decimal)):
        return _from_unix(float(value))
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return value
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return _from_unix(float(text))
    candidate = text.replace("/", "-").replace("T", " ", 1) if "/" in text else text
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    match = _CHINESE_DATE.match(text)
    if match:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(y, mo, d, h, mi, s)
        except ValueError as exc:
            raise ValueError(f"impossible date {text!r}: {exc}") from None
    # Single-digit months/days: 2024-7-21 22:14
    parts = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$", candidate)
    if parts:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in parts.groups())
        try:
            return datetime(y, mo, d, h, mi, s)
        except ValueError as exc:
            raise ValueError(f"impossible date {text!r}: {exc}") from None
    raise ValueError(
        f"unrecognised timestamp {text!r}; use ISO 8601 (2024-07-21T22:14:05), "
        "'2024/07/21 22:14' or unix seconds"
    )


def _fast_timestamp(value: str) -> datetime | None:
    """The two commonest forms, ISO 8601 and ``2024/07/21 22:14:05`` (exports), or None for the full parser.

    Read for every record: one check and one C call here, the general parser for the rest.
    """
    sep = value[4]
    if sep == "/" and value[7] == "/":  # two-digit month and day, as the full parser would read them
        value = value.replace("/", "-", 2)
    elif sep != "-":
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None  # the forms parse_timestamp knows, or its clear error


def _from_unix(seconds: float) -> datetime:
    if abs(seconds) >= _MILLISECONDS_FROM:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"unix time {seconds!r} is out of range") from None


Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]


def _optional_timestamp(value: Any) -> Any:
    """``_blank_to_none`` then ``parse_timestamp``, in one call: optional times are read for every record."""
    if type(value) is str and len(value) >= 10:
        fast = _fast_timestamp(value)
        if fast is not None:
            return fast
    value = _blank_to_none(value)
    return None if value is None else parse_timestamp(value)


OptionalTimestamp = Annotated[datetime | None, BeforeValidator(_optional_timestamp)]


def _blank_to_none(value: Any) -> Any:
    kind = type(value)
    if kind is str:  # the common case first: this runs for every optional field of every record
        return value if value and not value.isspace() else None
    if kind is float and value != value:  # NaN from spreadsheets
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _alias_lookup(aliases: dict[str, str], codes: type[StrEnum] | None = None):
    """A before-validator mapping free-text enum values (``微信``, ``WeChat Pay``) to codes.

    ``codes``: the enum; its own codes (the common input) are returned at once, as the lookup would.
    """
    ready = frozenset(c.value for c in codes if aliases.get(c.value, c.value) == c.value) if codes else frozenset()

    def validate(value: Any) -> Any:
        if type(value) is str and value in ready:
            return value
        value = _blank_to_none(value)
        if isinstance(value, str):
            key = value.strip().lower()
            return aliases.get(key, key)
        return value

    return validate


class Channel(StrEnum):
    wechat = "wechat"
    alipay = "alipay"
    bank_card = "bank_card"
    apple_iap = "apple_iap"
    google_play = "google_play"
    carrier = "carrier"
    game_card = "game_card"
    other = "other"


CHANNEL_ALIASES: dict[str, str] = {
    "微信": "wechat", "微信支付": "wechat", "财付通": "wechat", "wechat pay": "wechat",
    "wechatpay": "wechat", "weixin": "wechat", "wx": "wechat", "qq钱包": "wechat",
    "支付宝": "alipay", "alipay": "alipay", "花呗": "alipay", "zfb": "alipay",
    "银行卡": "bank_card", "借记卡": "bank_card", "信用卡": "bank_card", "网银": "bank_card",
    "银联": "bank_card", "云闪付": "bank_card", "bank": "bank_card", "card": "bank_card",
    "苹果": "apple_iap", "app store": "apple_iap", "appstore": "apple_iap", "苹果支付": "apple_iap",
    "apple": "apple_iap", "iap": "apple_iap", "apple pay": "apple_iap", "ios": "apple_iap",
    "google": "google_play", "谷歌": "google_play", "google play": "google_play",
    "话费": "carrier", "话费支付": "carrier", "运营商": "carrier", "手机话费": "carrier",
    "游戏卡": "game_card", "点卡": "game_card", "充值卡": "game_card", "q币": "game_card",
    "其他": "other", "其它": "other",
}


class RealNameStatus(StrEnum):
    verified = "verified"
    pending = "pending"
    failed = "failed"
    unverified = "unverified"
    guest = "guest"
    unknown = "unknown"


STATUS_ALIASES = {
    "已认证": "verified", "已实名": "verified", "认证通过": "verified", "实名": "verified",
    "认证中": "pending", "待认证": "pending", "审核中": "pending",
    "认证失败": "failed", "未通过": "failed",
    "未认证": "unverified", "未实名": "unverified",
    "游客": "guest", "游客模式": "guest",
    "未知": "unknown",
}


class Holder(StrEnum):
    claimed_minor = "claimed_minor"
    guardian = "guardian"
    other_adult = "other_adult"
    other_minor = "other_minor"
    unknown = "unknown"


HOLDER_ALIASES = {
    "孩子": "claimed_minor", "未成年人": "claimed_minor", "孩子本人": "claimed_minor", "本人": "claimed_minor",
    "监护人": "guardian", "父母": "guardian", "家长": "guardian", "父亲": "guardian", "母亲": "guardian",
    "其他成年人": "other_adult", "祖父母": "other_adult", "爷爷": "other_adult", "奶奶": "other_adult",
    "外公": "other_adult", "外婆": "other_adult", "亲属": "other_adult",
    "其他未成年人": "other_minor", "未知": "unknown",
}


class FaceOutcome(StrEnum):
    passed = "passed"
    failed = "failed"
    declined = "declined"
    timeout = "timeout"


FACE_OUTCOME_ALIASES = {
    "通过": "passed", "成功": "passed", "失败": "failed", "未通过": "failed",
    "拒绝": "declined", "放弃": "declined", "取消": "declined", "超时": "timeout",
}


class FaceMatch(StrEnum):
    registered_holder = "registered_holder"
    other = "other"
    unknown = "unknown"


FACE_MATCH_ALIASES = {"本人": "registered_holder", "实名人": "registered_holder", "他人": "other", "未知": "unknown"}


class RechargeStatus(StrEnum):
    success = "success"
    refunded = "refunded"
    failed = "failed"


RECHARGE_STATUS_ALIASES = {
    "成功": "success", "支付成功": "success", "已支付": "success", "交易成功": "success",
    "已退款": "refunded", "退款": "refunded", "失败": "failed", "支付失败": "failed",
}


class Speaker(StrEnum):
    account = "account"
    other = "other"


SPEAKER_ALIASES = {"本人": "account", "账号": "account", "该账号": "account", "玩家本人": "account",
                   "self": "account", "他人": "other", "其他玩家": "other", "对方": "other"}


class Relation(StrEnum):
    parent = "parent"
    grandparent = "grandparent"
    other_guardian = "other_guardian"
    self = "self"
    other = "other"


RELATION_ALIASES = {"父母": "parent", "父亲": "parent", "母亲": "parent", "家长": "parent",
                    "爸爸": "parent", "妈妈": "parent", "祖父母": "grandparent", "爷爷": "grandparent",
                    "奶奶": "grandparent", "外公": "grandparent", "外婆": "grandparent",
                    "监护人": "other_guardian", "本人": "self", "其他": "other"}


def _bool_from_text(value: Any) -> Any:
    if value is True or value is False:  # JSON's own booleans: nothing to read
        return value
    value = _blank_to_none(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in {"true", "yes", "y", "1", "是", "有", "对", "争议"}:
            return True
        if key in {"false", "no", "n", "0", "否", "无", "不", "非争议"}:
            return False
    return value


Flag = Annotated[bool | None, BeforeValidator(_bool_from_text)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


def _text_id(value: Any) -> Any:
    """Record ids from spreadsheets arrive as numbers (12345.0); keep them as text."""
    if type(value) is str:
        return value if value and not value.isspace() else None
    value = _blank_to_none(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


RecordId = Annotated[str | None, BeforeValidator(_text_id)]


_StrippedText = Annotated[str, StringConstraints(strip_whitespace=True)]


class _Record(BaseModel):
    """Base of every input record: unknown fields are kept (extra='allow') but never required."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, populate_by_name=True)


class Claim(_Record):
    minor_birth_date: Annotated[date | None, BeforeValidator(_blank_to_none)] = None
    minor_id_number: OptionalText = None
    guardian_id_number: OptionalText = None
    relation: Annotated[Relation | None, BeforeValidator(_alias_lookup(RELATION_ALIASES, Relation))] = None
    statement: OptionalText = None
    disputed_recharge_ids: list[str] | None = None


class RealName(_Record):
    status: Annotated[RealNameStatus, BeforeValidator(_alias_lookup(STATUS_ALIASES, RealNameStatus))] = RealNameStatus.unknown
    id_number: OptionalText = None
    birth_date: Annotated[date | None, BeforeValidator(_blank_to_none)] = None
    holder: Annotated[Holder, BeforeValidator(_alias_lookup(HOLDER_ALIASES, Holder))] = Holder.unknown
    method: OptionalText = None
    verified_at: Annotated[Timestamp | None, BeforeValidator(_blank_to_none)] = None


class FaceCheck(_Record):
    id: RecordId = None
    at: Timestamp
    outcome: Annotated[FaceOutcome, BeforeValidator(_alias_lookup(FACE_OUTCOME_ALIASES, FaceOutcome))]
    matched: Annotated[FaceMatch, BeforeValidator(_alias_lookup(FACE_MATCH_ALIASES, FaceMatch))] = FaceMatch.unknown


class Account(_Record):
    account_id: RecordId = None
    platform: OptionalText = None
    game: OptionalText = None
    created_at: Annotated[Timestamp | None, BeforeValidator(_blank_to_none)] = None
    real_name: RealName | None = None
    face_checks: list[FaceCheck] = Field(default_factory=list)


_recharge_status = _alias_lookup(RECHARGE_STATUS_ALIASES, RechargeStatus)
# Each of the validators below runs for every payment: the common input returns at once.


def _recharge_status_or_success(value: Any) -> Any:
    if type(value) is str and value in _RECHARGE_STATUS_CODES:
        return value
    return _recharge_status(value) or "success"


_RECHARGE_STATUS_CODES = frozenset(s.value for s in RechargeStatus if RECHARGE_STATUS_ALIASES.get(s.value, s.value) == s.value)


def _currency_or_cny(value: Any) -> Any:
    if type(value) is str and value and not value.isspace():
        return value
    return _blank_to_none(value) or "CNY"


def _disputed(value: Any) -> Any:
    """Disputed unless the input says otherwise: a blank means disputed."""
    if value is True or value is False:
        return value
    flag = _bool_from_text(value)
    return True if flag is None else flag


def _text_or_empty(value: Any) -> Any:
    if type(value) is str:
        return value if value and not value.isspace() else ""
    return "" if _blank_to_none(value) is None else value


class Recharge(_Record):
    id: RecordId = None
    at: Timestamp
    amount: Decimal = Field(ge=0, description="Amount in yuan (CNY unless `currency` says otherwise).")
    currency: Annotated[str, BeforeValidator(_currency_or_cny)] = "CNY"
    item: OptionalText = None
    channel: Annotated[Channel | None, BeforeValidator(_alias_lookup(CHANNEL_ALIASES, Channel))] = None
    payer: OptionalText = None
    device_id: RecordId = None
    status: Annotated[RechargeStatus, BeforeValidator(_recharge_status_or_success)] = (
        RechargeStatus.success
    )
    disputed: Annotated[bool, BeforeValidator(_disputed)] = True
    by_minor: Flag = None

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        value = value.upper()
        if value in {"RMB", "元", "人民币", "CNY¥", "¥"}:
            return "CNY"
        return value


SESSION_ENDS_EARLY = "session ends before it starts"


class Session(_Record):
    id: RecordId = None
    start: Timestamp
    end: OptionalTimestamp = None
    device_id: RecordId = None
    ip: OptionalText = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Session:
        """Both naive or both aware: comparable as they are. One of each is compared by the case,
        once it knows the zone the naive one is in (``Case._localise``)."""
        end, start = self.end, self.start
        if end is not None and (end.tzinfo is None) is (start.tzinfo is None) and end < start:
            raise ValueError(SESSION_ENDS_EARLY)
        return self


class LoginTrace(_Record):
    """One row of the anti-addiction system's behaviour record (NPPA interface field names)."""

    si: RecordId = Field(default=None, description="Session id pairing a login with its logout")
    bt: int = Field(ge=0, le=1, description="1 = login, 0 = logout")
    ot: Timestamp = Field(description="Unix seconds")
    ct: int | None = Field(default=None, description="0 = verified user, 2 = guest")
    di: OptionalText = Field(default=None, description="Device id")
    pi: OptionalText = Field(default=None, description="Player id issued by the NPPA system")


class Chat(_Record):
    """One chat line. A case may hold 100,000 of them, so this record is lean: only its text
    fields are stripped (in pydantic's core, which also flags half an emoji for repair), and
    fields beyond these are not kept (each costs about a microsecond a line)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False, populate_by_name=True)

    id: Annotated[_StrippedText | None, BeforeValidator(_text_id)] = None
    at: OptionalTimestamp = None
    speaker: Annotated[Speaker, BeforeValidator(_alias_lookup(SPEAKER_ALIASES, Speaker))] = Speaker.account
    channel: Annotated[_StrippedText | None, BeforeValidator(_blank_to_none)] = None
    text: Annotated[_StrippedText, BeforeValidator(_text_or_empty)]


class Label(_Record):
    minor_payer: Flag = None
    source: OptionalText = None


def _comparable(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Case(_Record):
    """One refund dispute. Only ``case_id`` is required; missing lists mean missing evidence."""

    format: Literal["assessor.case/1"] = CASE_FORMAT
    case_id: Annotated[str, BeforeValidator(_text_id), Field(min_length=1)]
    timezone: Annotated[str, BeforeValidator(lambda v: _blank_to_none(v) or DEFAULT_TIMEZONE)] = DEFAULT_TIMEZONE
    claim: Claim | None = None
    account: Account | None = None
    recharges: list[Recharge] = Field(default_factory=list)
    sessions: list[Session] = Field(default_factory=list)
    login_traces: list[LoginTrace] = Field(default_factory=list)
    chats: list[Chat] = Field(default_factory=list)
    label: Label | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _localise(self) -> Case:
        """Put every timestamp in the case's timezone and pair login traces into sessions."""
        tz = ZoneInfo(self.timezone)
        mixed = [i for i, s in enumerate(self.sessions)
                 if s.end is not None and (s.start.tzinfo is None) is not (s.end.tzinfo is None)]
        if self.account is not None:
            _localise_all([self.account], "created_at", tz)
            if self.account.real_name is not None:
                _localise_all([self.account.real_name], "verified_at", tz)
            _localise_all(self.account.face_checks, "at", tz)
        _localise_all(self.recharges, "at", tz)
        _localise_all(self.sessions, "start", tz)
        _localise_all(self.sessions, "end", tz)
        _localise_all(self.login_traces, "ot", tz)
        _localise_all(self.chats, "at", tz)
        _check_mixed_sessions(self.sessions, mixed)
        if self.login_traces:
            # A case dumped and read again already holds its trace sessions: don't add twice.
            known = {session.id for session in self.sessions}
            self.sessions.extend(
                s for s in sessions_from_login_traces(self.login_traces) if s.id not in known
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _check_mixed_sessions(sessions: list[Session], mixed: list[int]) -> None:
    """Sessions with a naive and an aware time, now both in the case's zone: the end must not be
    before the start (located as Session's own check is: ``sessions[i]``)."""
    early = [i for i in mixed if sessions[i].end < sessions[i].start]
    if early:
        raise ValidationError.from_exception_data("Case", [InitErrorDetails(
            type=PydanticCustomError("value_error", SESSION_ENDS_EARLY), loc=("sessions", i),
            input={"start": sessions[i].start.isoformat(), "end": sessions[i].end.isoformat()})
            for i in early])


def _localise_all(records: list[Any], name: str, tz: ZoneInfo) -> None:
    """Put the time ``name`` of each record in ``tz``: naive times are local to it, others converted.

    Written to each record's __dict__: the value is already validated, and pydantic's
    __setattr__ costs more than the rest of this loop over thousands of records.
    """
    for record in records:
        fields = record.__dict__
        value = fields[name]
        if value is None:
            continue
        if value.tzinfo is not None:
            fields[name] = value.astimezone(tz)
        elif type(value) is datetime and not value.fold:
            # The same datetime as value.replace(tzinfo=tz), built from its parts: replace()
            # reads its keywords at about 1.7 µs a call, the constructor 0.7 µs with the reads.
            fields[name] = datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                    value.microsecond, tz)
        else:  # a subclass (pandas' Timestamp) or the second of a repeated hour keeps its kind
            fields[name] = value.replace(tzinfo=tz)


def sessions_from_login_traces(traces: list[LoginTrace]) -> list[Session]:
    """Pair each login (bt=1) with the logout (bt=0) of the same ``si`` into a session.

    Unpaired logins become open sessions (no end); unpaired logouts are dropped, because
    a logout alone says nothing about when play began.
    """
    logins: dict[str, LoginTrace] = {}
    sessions: list[Session] = []
    for trace in sorted(traces, key=lambda t: _comparable(t.ot)):
        key = trace.si or ""
        if trace.bt == 1:
            if key in logins:  # a second login without logout: the first stays open
                sessions.append(_trace_session(logins.pop(key), None))
            logins[key] = trace
        elif key in logins:
            sessions.append(_trace_session(logins.pop(key), trace))
    sessions.extend(_trace_session(login, None) for login in logins.values())
    return sessions


def _trace_session(login: LoginTrace, logout: LoginTrace | None) -> Session:
    return Session.model_construct(
        id=f"trace-{login.si or login.ot.strftime('%Y%m%d%H%M%S')}",
        start=login.ot,
        end=logout.ot if logout else None,
        device_id=login.di,
        ip=None,
        source="login_traces",
        guest=login.ct == 2,
    )


# --------------------------------------------------------------------------- assessment


class Band(StrEnum):
    strong = "strong"
    likely = "likely"
    inconclusive = "inconclusive"
    unlikely = "unlikely"


BAND_THRESHOLDS = {Band.strong: 0.85, Band.likely: 0.65}
BAND_INCONCLUSIVE_ABOVE = 0.35
BAND_NAMES_ZH = {Band.strong: "高度可能", Band.likely: "较可能", Band.inconclusive: "证据不足", Band.unlikely: "可能性低"}
BAND_NAMES_EN = {Band.strong: "strong", Band.likely: "likely", Band.inconclusive: "inconclusive", Band.unlikely: "unlikely"}


def band_for(probability: float) -> Band:
    """The spec's bands: strong >= 0.85, likely >= 0.65, inconclusive > 0.35, else unlikely."""
    if probability >= BAND_THRESHOLDS[Band.strong]:
        return Band.strong
    if probability >= BAND_THRESHOLDS[Band.likely]:
        return Band.likely
    if probability > BAND_INCONCLUSIVE_ABOVE:
        return Band.inconclusive
    return Band.unlikely


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceRef(_Out):
    record: str = Field(description="`<list>/<id or index>`, e.g. chats/m12, recharges/ord-7, face_checks/2")
    at: datetime | None = None
    excerpt: str | None = None


class Contribution(_Out):
    id: str
    source: str = Field(description="Evidence family: real_name, chat, recharge, sessions, face_checks, model")
    weight: float = Field(description="Additive log-odds")
    summary: str
    summary_zh: str | None = None
    evidence: list[EvidenceRef] = Field(default_factory=list)


class RuleApplied(_Out):
    id: str
    effect: Literal["weight", "floor", "ceiling", "finding"]
    weight: float | None = None
    bound: float | None = Field(default=None, description="Probability bound for floor/ceiling rules")
    applied: bool = Field(default=True, description="For floor/ceiling: whether the bound changed the result")
    summary: str
    summary_zh: str | None = None
    basis: str
    evidence: list[EvidenceRef] = Field(default_factory=list)


class Finding(_Out):
    id: str
    summary: str
    summary_zh: str | None = None
    basis: str | None = None
    amount_cny: float | None = None
    evidence: list[EvidenceRef] = Field(default_factory=list)


class RechargeAttribution(_Out):
    id: str
    minor_probability: float = Field(ge=0, le=1)
    amount_cny: float | None = None
    disputed: bool = True


class Coverage(_Out):
    real_name: bool = False
    chats: bool = False
    recharges: bool = False
    sessions: bool = False
    face_checks: bool = False


class ModelInfo(_Out):
    name: str = "none"
    version: str | None = None
    sha256: str | None = None


class RulebookInfo(_Out):
    version: str | None = None


class Reason(_Out):
    id: str
    weight: float
    summary: str
    summary_zh: str | None = None


class TopReasons(_Out):
    """At most four principal reasons on each side, ready for reports."""

    minor: list[Reason] = Field(default_factory=list)
    adult: list[Reason] = Field(default_factory=list)


FAMILY_NAMES = {  # evidence family -> (English, Chinese) as a mediator reads it out
    "chat": ("chat evidence", "聊天证据"), "recharge": ("recharge behaviour", "充值行为"),
    "sessions": ("login sessions", "登录记录"), "real_name": ("real-name registration", "实名认证"),
    "face_checks": ("face checks", "人脸识别"), "claim": ("the claim itself", "申请人陈述"),
    "model": ("model baseline", "模型基线"),
}
_RULE_FAMILY = {"face_check": "face_checks"}


class FamilyTotal(_Out):
    """The log-odds one evidence family adds, e.g. "chat evidence: +1.3"."""

    family: str
    weight: float = Field(description="Sum of the family's contributions and rule weights (log-odds)")
    summary: str
    summary_zh: str


def family_totals(contributions: list[Contribution], rules: list[RuleApplied]) -> list[FamilyTotal]:
    """Contributions and rule weights summed per evidence family, largest first."""
    return [FamilyTotal(**total) for total in family_total_data(
        [(c.source, c.weight) for c in contributions], [(r.id, r.effect, r.weight) for r in rules])]


def family_total_data(weights: list[tuple[str, float]], rules: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """:func:`family_totals` as plain data, from (source, weight) of each contribution and
    (id, effect, weight) of each rule: what the batch writes without building models."""
    totals: dict[str, float] = {}
    for source, weight in weights:
        totals[source] = totals.get(source, 0.0) + weight
    for rule_id, effect, weight in rules:
        if effect == "weight" and weight:
            prefix = rule_id.split(".", 1)[0]
            family = _RULE_FAMILY.get(prefix, prefix)
            totals[family] = totals.get(family, 0.0) + weight
    out = []
    for family, weight in sorted(totals.items(), key=lambda kv: (-abs(kv[1]), kv[0])):
        en, zh = FAMILY_NAMES.get(family, (family, family))
        out.append({"family": family, "weight": round(weight, 6), "summary": f"{en}: {weight:+.2f}",
                    "summary_zh": f"{zh}：{weight:+.2f}"})
    return out


class Assessment(_Out):
    format: Literal["assessor.assessment/1"] = ASSESSMENT_FORMAT
    case_id: str
    probability: float = Field(ge=0, le=1)
    band: Band
    log_odds: float
    prior: float = Field(gt=0, lt=1)
    contributions: list[Contribution] = Field(default_factory=list)
    rules: list[RuleApplied] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    recharges: list[RechargeAttribution] = Field(default_factory=list)
    attributable_amount_cny: float = 0.0
    disputed_amount_cny: float = 0.0
    coverage: Coverage = Field(default_factory=Coverage)
    warnings: list[str] = Field(default_factory=list)
    model: ModelInfo = Field(default_factory=ModelInfo)
    rulebook: RulebookInfo = Field(default_factory=RulebookInfo)
    top_reasons: TopReasons = Field(default_factory=TopReasons)

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """An assessment read back from its own JSON carries ``families``, which is always recomputed."""
        if isinstance(data, dict) and "families" in data:
            data = {k: v for k, v in data.items() if k != "families"}
        return data

    @computed_field(description="Log-odds per evidence family (model points and rule weights), largest first")
    @property
    def families(self) -> list[FamilyTotal]:
        return family_totals(self.contributions, self.rules)

    def to_frame(self, *, lang: Literal["zh", "en"] = "en") -> Any:
        """This assessment as a one-row pandas DataFrame, with the columns of ``assessor batch -o OUT.csv``.

        pandas is imported here, not when the schema is.
        """
        from assessor.frame import assessment_to_frame

        return assessment_to_frame(self, lang=lang)


def json_schema(kind: Literal["case", "assessment"]) -> dict[str, Any]:
    """The JSON Schema of the case or assessment format."""
    model = Case if kind == "case" else Assessment
    schema = model.model_json_schema()
    schema["$id"] = CASE_FORMAT if kind == "case" else ASSESSMENT_FORMAT
    return schema
