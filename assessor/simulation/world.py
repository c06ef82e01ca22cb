"""One simulated dispute: a household, an account, who paid what and when, and the evidence left.

The order of events follows the real world: a family and a game account exist; the child, the
adult or both pay on their own clocks; the platform applies (or ignores) the caps, play-time
rules and face checks; the family files a claim if the sum is worth it; the evidence bundle that
reaches the mediator is incomplete and noisy. The truth is kept per payment (``by_minor``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from assessor.simulation import ids
from assessor.simulation.chat import Writer
from assessor.simulation.params import ChatTemplates, Game, SimulationParams
from assessor.simulation.timing import ONLINE, VACATION, Clock, Window, adult_clock, child_clock

CHILD, ADULT = "child", "adult"
_TZ = ZoneInfo("Asia/Shanghai")
_MAX_ATTEMPTS = 40
_FORCE_FROM = 25  # after this many rejected attempts, accept whatever was filed


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key, drawn with probability proportional to its weight (pure Python: this is hot)."""
    u = rng.random() * sum(weights.values())
    key = ""
    for key, w in weights.items():
        u -= w
        if u < 0:
            return key
    return key


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return bounds[0] + (bounds[1] - bounds[0]) * rng.random()


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _years_before(day: date, years: int, extra_days: int) -> date:
    try:
        anchor = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        anchor = day.replace(year=day.year - years, day=28)
    return anchor - timedelta(days=extra_days)


@dataclass
class Person:
    role: str  # child, mother, father, grandparent, other_adult
    birth: date
    region: str
    sequence: int
    wallet: str  # how the payment account shows up in exports

    @property
    def id_number(self) -> str:
        return ids.compose(self.region, self.birth, self.sequence)


@dataclass
class Payment:
    at: datetime
    amount: float
    item: str
    actor: str
    device: str
    channel: str
    payer: str
    disputed: bool = True
    status: str = "success"


@dataclass
class Play:
    start: datetime
    end: datetime
    actor: str
    device: str


@dataclass
class Household:
    child: Person
    claimant: Person
    relation: str
    adults: dict[str, Person] = field(default_factory=dict)


class CaseBuilder:
    """Builds case ``k`` of a seed; every random draw comes from the case's own generator."""

    def __init__(self, params: SimulationParams, templates: ChatTemplates) -> None:
        self.p = params
        self.t = templates
        years = params.dates.last_day.year - params.dates.first_day.year + 1
        w = np.array(params.dates.year_weights, dtype=float)
        self._year_p = w / w.sum()
        self._years = [params.dates.first_day.year + i for i in range(years)]
        ages = np.array(params.household.child_age_weights, dtype=float)
        self._age_p = ages / ages.sum()
        tiers = np.cumsum(params.spending.adult_tier_weights)
        self._adult_tier_cum = tiers[:-1] / tiers[-1]

    # ------------------------------------------------------------------ entry point

    def build(self, seed: int, k: int) -> dict[str, Any]:
        rng = np.random.default_rng([seed, k])
        sc = self.p.scenario
        scenario = _pick(rng, {"child_paid": sc.child_paid, "adult_false_claim": sc.adult_false_claim,
                               "mixed": sc.mixed})
        minor_major = scenario == "child_paid" or (scenario == "mixed" and rng.random() < sc.mixed_minor_majority)
        for attempt in range(_MAX_ATTEMPTS):
            case = self._attempt(rng, seed, k, scenario, minor_major, force=attempt >= _FORCE_FROM)
            if case is not None:
                return case
        raise RuntimeError(f"case {k}: no dispute could be simulated with these parameters")

    # ------------------------------------------------------------------ the world

    def _window(self, rng: np.random.Generator) -> Window:
        d = self.p.dates
        length = int(np.clip(round(rng.lognormal(math.log(d.window_days_median), d.window_days_sigma)),
                             1, d.window_days_max))
        year = self._years[int(rng.choice(len(self._years), p=self._year_p))]
        lo = max(date(year, 1, 1), d.first_day)
        hi = min(date(year, 12, 31), d.last_day - timedelta(days=length - 1))
        span = max((hi - lo).days, 0)
        return Window(lo + timedelta(days=int(rng.integers(0, span + 1))), length, (d.first_day, d.last_day))

    def _household(self, rng: np.random.Generator, start: date, days: int) -> Household:
        h = self.p.household
        region = ids.fake_region(rng)
        age = 5 + int(rng.choice(13, p=self._age_p))
        extra = int(rng.integers(0, 365))
        if age == 17:  # still 17 on the window's last day: a claimed minor must be a minor throughout
            extra = min(extra, max(0, 364 - days))
        child_birth = _years_before(start, age, extra)
        child = self._person(rng, "child", child_birth, region)
        mother_gap = int(rng.integers(h.parent_age_at_birth[0], h.parent_age_at_birth[1] + 1))
        adults = {"mother": self._person(rng, "mother", _years_before(child_birth, mother_gap, int(rng.integers(0, 365))),
                                         region, female=True)}
        if rng.random() < h.second_guardian:
            gap = int(np.clip(mother_gap + rng.integers(-2, 7), 20, 55))
            adults["father"] = self._person(rng, "father", _years_before(child_birth, gap, int(rng.integers(0, 365))),
                                            region, female=False)
        elif rng.random() < 0.4:  # a single father instead of a single mother
            adults["father"] = adults.pop("mother")
            adults["father"].role = "father"
        parent = adults.get("mother") or adults["father"]
        gp_gap = int(rng.integers(h.grandparent_age_gap[0], h.grandparent_age_gap[1] + 1))
        adults["grandparent"] = self._person(rng, "grandparent", _years_before(parent.birth, gp_gap, int(rng.integers(0, 365))),
                                             region)
        if rng.random() < h.grandparent_carer and rng.random() < h.grandparent_claims:
            return Household(child, adults["grandparent"], "grandparent", adults)
        parents = [a for r, a in adults.items() if r in ("mother", "father")]
        return Household(child, parents[int(rng.integers(len(parents)))], "parent", adults)

    def _person(self, rng: np.random.Generator, role: str, birth: date, region: str, *,
                female: bool | None = None) -> Person:
        sequence = ids.sequence_code(rng, female=female)
        return Person(role, birth, region, sequence, str(int(rng.integers(1000, 10000))))

    # ------------------------------------------------------------------ one attempt

    def _attempt(self, rng: np.random.Generator, seed: int, k: int, scenario: str, minor_major: bool, *,
                 force: bool) -> dict[str, Any] | None:
        p = self.p
        window = self._window(rng)
        hh = self._household(rng, window.start, window.days)
        year_index = min(window.start.year - p.dates.first_day.year, len(p.platform.compliant_by_year) - 1)
        compliant = (not force) and rng.random() < p.platform.compliant_by_year[year_index]
        face_platform = compliant and rng.random() < p.platform.face_check_capable
        game = p.spending.games[int(rng.integers(len(p.spending.games)))]
        kind = _pick(rng, p.platform.kinds)

        # Whose ID the account uses: drawn for the person who mainly plays it.
        main_player = ADULT if scenario == "adult_false_claim" else CHILD
        holder_key, holder = self._holder(rng, hh, main_player, window, compliant)
        created = datetime.combine(window.start, datetime.min.time()) - timedelta(
            days=int(rng.integers(p.account.created_days_before[0], p.account.created_days_before[1] + 1)),
            minutes=int(rng.integers(8 * 60, 23 * 60)))
        verified_at = None
        if holder is not None:
            verified_at = created + timedelta(minutes=int(rng.integers(1, 10)))
            caps_from = datetime.combine(p.dates.caps_effective, datetime.min.time())
            if created < caps_from and rng.random() < p.account.unverified_before_caps:
                verified_at = caps_from + timedelta(days=int(rng.integers(0, 61)), minutes=int(rng.integers(0, 1440)))
        minor_account = holder_key == "own_id"
        restricted = compliant and minor_account

        # Devices and clocks.
        devices = self._devices(rng, hh)
        child_age = _age_on(hh.child.birth, window.start)
        clocks = {
            CHILD: child_clock(window, p.timing, age=child_age, night_owl=rng.random() < p.timing.child_night_owl,
                               restricted=restricted),
            ADULT: self._adult_clock(rng, window, hh.claimant, restricted),
        }
        child_device = devices["parent_phone"] if rng.random() < p.sessions.child_uses_parent_phone else (
            devices.get("spare_phone") or devices.get("tablet") or devices["parent_phone"])
        adult_device = devices["parent_phone"]
        means = _pick(rng, p.spending.child_payment_means)
        channels = self._channels(rng, kind)

        payments = self._payments(rng, scenario, minor_major, clocks, game, means, channels,
                                  child_device, adult_device, hh)
        if not payments:
            return None
        payments.sort(key=lambda x: x.at)
        face_checks = self._platform_rules(rng, payments, hh, holder_key, holder, verified_at, compliant,
                                           face_platform, game)
        if scenario == "mixed":
            _enforce_majority(payments, minor_major)
        disputed = sum(x.amount for x in payments if x.disputed and x.status == "success")
        if disputed <= 0:
            return None
        f = p.filing
        if not force and rng.random() > max(f.floor, min(1.0, (disputed / f.reference_amount) ** f.exponent)):
            return None

        players = {CHILD, ADULT} if scenario == "mixed" else {main_player}
        other = ADULT if main_player == CHILD else CHILD
        if rng.random() < p.sessions.other_player_plays:
            players.add(other)
        plays = self._plays(rng, payments, clocks, players, {CHILD: child_device, ADULT: adult_device})
        if face_platform and holder_key != "own_id" and holder is not None:
            face_checks += self._night_patrol(rng, plays, holder_key, window)
        return self._assemble(rng, seed, k, scenario, window, hh, holder_key, holder, created, verified_at,
                              compliant, face_platform, kind, game, payments, plays, face_checks, child_age)

    def _holder(self, rng: np.random.Generator, hh: Household, main_player: str, window: Window,
                compliant: bool) -> tuple[str, Person | None]:
        a = self.p.account
        if main_player == CHILD:
            key = _pick(rng, a.child_player_holder)
            if (key == "own_id" and not compliant and window.end < self.p.dates.guest_abolished
                    and rng.random() < a.guest_share_of_own_id):
                return "guest", None
        else:
            key = {"child": "own_id"}.get(k := _pick(rng, a.adult_player_holder), k)
        if key == "own_id":
            return key, hh.child
        if key == "parent":
            return key, hh.claimant if hh.relation == "parent" else (hh.adults.get("mother") or hh.adults["father"])
        if key == "grandparent":
            return key, hh.adults["grandparent"]
        region = ids.fake_region(rng)
        birth = _years_before(window.start, int(rng.integers(20, 60)), int(rng.integers(0, 365)))
        return key, self._person(rng, "other_adult", birth, region)

    def _adult_clock(self, rng: np.random.Generator, window: Window, adult: Person, restricted: bool) -> Clock:
        t = self.p.timing
        worker = "retired" if adult.role == "grandparent" else _pick(rng, t.adult_worker_types)
        return adult_clock(window, t, worker=worker, night_owl=rng.random() < t.adult_night_owl,
                           payday=t.paydays[int(rng.integers(len(t.paydays)))], restricted=restricted)

    def _devices(self, rng: np.random.Generator, hh: Household) -> dict[str, str]:
        s = self.p.sessions

        def dev() -> str:
            return "dev-" + "".join(f"{b:02x}" for b in rng.integers(0, 256, size=4))

        devices = {"parent_phone": dev()}
        if rng.random() < s.spare_phone:
            devices["spare_phone"] = dev()
        if rng.random() < s.tablet:
            devices["tablet"] = dev()
        return devices

    def _channels(self, rng: np.random.Generator, kind: str) -> list[str]:
        pl = self.p.platform
        table = pl.channels_ios if kind == "ios" else pl.channels_android
        first = _pick(rng, table)
        if rng.random() < pl.second_channel:
            rest = {c: w for c, w in table.items() if c != first}
            if rest:
                return [first, _pick(rng, rest)]
        return [first]

    # ------------------------------------------------------------------ payments

    def _payments(self, rng, scenario, minor_major, clocks, game, means, channels, child_device,
                  adult_device, hh) -> list[Payment]:
        s = self.p.spending
        weeks = clocks[CHILD].window.days / 7.0
        rate_c = rng.lognormal(math.log(s.child_episodes_per_week[0]), s.child_episodes_per_week[1])
        rate_a = rng.lognormal(math.log(s.adult_episodes_per_week[0]), s.adult_episodes_per_week[1])
        if scenario == "child_paid":
            counts = {CHILD: max(1, int(rng.poisson(rate_c * weeks))), ADULT: 0}
        elif scenario == "adult_false_claim":
            counts = {CHILD: 0, ADULT: max(1, int(rng.poisson(rate_a * weeks)))}
        else:
            total = max(2, int(rng.poisson((rate_c + rate_a) / 2 * weeks)))
            major = min(total - 1, max(1, round(total * _uniform(rng, self.p.scenario.mixed_majority_episode_share))))
            counts = {CHILD: major, ADULT: total - major} if minor_major else {CHILD: total - major, ADULT: major}
        wallet_adult = hh.claimant.wallet
        own_wallet = means == "own_wallet"
        out: list[Payment] = []
        for actor in (CHILD, ADULT):
            starts = clocks[actor].sample(rng, counts[actor])
            for episode, start in enumerate(sorted(starts)):
                out.extend(self._episode(rng, actor, episode, start, game, means, channels,
                                         child_device if actor == CHILD else adult_device,
                                         hh.child.wallet if (actor == CHILD and own_wallet) else wallet_adult))
        if rng.random() < s.acknowledged_adult_payments:
            for start in clocks[ADULT].sample(rng, int(rng.integers(1, 4))):
                for pay in self._episode(rng, ADULT, 0, start, game, means, channels, adult_device, wallet_adult):
                    pay.disputed = False
                    out.append(pay)
        return out

    def _episode(self, rng, actor, episode, start, game: Game, means, channels, device, wallet) -> list[Payment]:
        s = self.p.spending
        n = 1 + int(rng.geometric(1 - s.burst_continue[actor]) - 1)
        at = start
        pays: list[Payment] = []
        member = rng.random() < s.membership_share[actor]
        channel = channels[0] if len(channels) == 1 or rng.random() < 0.75 else channels[1]
        payer = _payer_label(channel, wallet)
        if member:
            amount, item = (game.membership, "月卡") if rng.random() < 0.6 else (game.battle_pass, "战令")
            pays.append(Payment(at, amount, item, actor, device, channel, payer))
            if rng.random() < s.double_membership:
                pays.append(Payment(at + timedelta(seconds=int(rng.integers(20, 300))), amount, item, actor, device,
                                    channel, payer))
            return pays
        tiers = game.tiers
        for j in range(min(n, 25)):
            amount = self._amount(rng, actor, episode, j, tiers, means)
            pays.append(Payment(at, amount, f"{int(amount * 10)}{game.item}", actor, device, channel, payer))
            at += timedelta(seconds=int(_uniform(rng, s.burst_gap_minutes) * 60))
        return pays

    def _amount(self, rng, actor, episode, j, tiers, means) -> float:
        s = self.p.spending
        if actor == CHILD:
            lo, hi = s.child_start_tier
            base = rng.integers(lo, hi + 1) + s.child_escalation * episode + 0.3 * j + rng.normal(0, 0.8)
            if rng.random() < s.child_big_pack_share:
                base = len(tiers) - 1 - rng.integers(0, 2)  # straight for one of the two largest packs
            amount = tiers[min(max(round(base), 0), len(tiers) - 1)]
            if means == "password_free" and amount > s.password_free_limit:
                amount = max(t for t in tiers if t <= s.password_free_limit)
            return amount
        target = s.common_tiers[int(np.searchsorted(self._adult_tier_cum, rng.random(), side="right"))]
        return min(tiers, key=lambda t: abs(t - target))

    # ------------------------------------------------------------------ platform rules

    def _platform_rules(self, rng, payments, hh, holder_key, holder, verified_at, compliant, face_platform,
                        game) -> list[dict[str, Any]]:
        """Caps for verified minors, face checks for adult-ID accounts; blocked payments fail."""
        p = self.p
        caps_from = datetime.combine(p.dates.caps_effective, datetime.min.time())
        face_from = datetime.combine(p.dates.payment_face_checks_from, datetime.min.time())
        monthly: dict[tuple[int, int], float] = {}
        checked_months: set[tuple[int, int]] = set()
        blocked_until: datetime | None = None
        checks: list[dict[str, Any]] = []
        fc = p.face_checks
        elderly = holder is not None and holder_key != "own_id" and _age_on(holder.birth, payments[0].at.date()) >= 60
        kept: list[Payment] = []
        for pay in payments:
            if blocked_until is not None and pay.at < blocked_until:
                continue  # the platform refuses further recharge for a while
            month = (pay.at.year, pay.at.month)
            spent = monthly.get(month, 0.0)
            minor_rules = (compliant and holder_key == "own_id" and verified_at is not None
                           and pay.at >= max(caps_from, verified_at))
            if minor_rules:
                single, month_cap = p.caps.for_age(_age_on(hh.child.birth, pay.at.date()))
                limit = min(single, month_cap - spent)
                if pay.amount > limit:
                    smaller = [t for t in game.tiers if t <= limit]
                    if smaller and rng.random() < p.caps.downgrade_when_blocked:
                        pay.amount = max(smaller)
                        pay.item = f"{int(pay.amount * 10)}{game.item}"
                    else:
                        pay.status = "failed"
            elif face_platform and holder is not None and pay.at >= face_from and holder_key != "own_id":
                over = spent + pay.amount > fc.payment_monthly_trigger and month not in checked_months
                suspect = fc.suspect_child_payment if pay.actor == CHILD else fc.suspect_adult_payment
                if elderly:
                    suspect = min(1.0, suspect * fc.elderly_holder_factor)
                if over or rng.random() < suspect:
                    checked_months.add(month)
                    outcome, matched = self._face_outcome(rng, pay.actor, holder_key, holder, hh)
                    checks.append({"at": pay.at - timedelta(seconds=int(rng.integers(5, 60))), "outcome": outcome,
                                   "matched": matched})
                    if outcome != "passed":
                        pay.status = "failed"
                        blocked_until = pay.at + timedelta(hours=fc.block_hours)
            if pay.status == "success":
                monthly[month] = spent + pay.amount
            kept.append(pay)
        payments[:] = kept
        return checks

    def _face_outcome(self, rng, actor, holder_key, holder, hh) -> tuple[str, str]:
        fc = self.p.face_checks
        holder_at_home = holder_key in ("parent", "grandparent")
        if actor == CHILD:
            if holder_at_home and rng.random() < fc.parent_passes_for_child:
                return "passed", "registered_holder"
            return _pick(rng, fc.child_outcomes), "unknown"
        adult_is_holder = holder is hh.claimant or holder_at_home
        if adult_is_holder:
            outcome = _pick(rng, fc.adult_outcomes)
            return outcome, ("registered_holder" if outcome == "passed" else "unknown")
        return ("failed", "other") if rng.random() < 0.5 else ("declined", "unknown")

    def _night_patrol(self, rng, plays: list[Play], holder_key: str, window: Window) -> list[dict[str, Any]]:
        """零点巡航: late-night sessions on adult-ID accounts are sometimes face-checked."""
        fc = self.p.face_checks
        start = datetime.combine(self.p.dates.night_patrol_from, datetime.min.time())
        checks = []
        for play in plays:
            late = play.start.hour >= 23 or play.start.hour < 4
            if play.start < start or not late or (play.end - play.start) < timedelta(minutes=40):
                continue
            if rng.random() >= fc.night_patrol:
                continue
            at = play.start + timedelta(minutes=int(rng.integers(20, 40)))
            if play.actor == CHILD:
                outcome = "passed" if rng.random() < fc.parent_passes_for_child else _pick(rng, fc.child_outcomes)
            else:
                outcome = _pick(rng, fc.adult_outcomes)
            checks.append({"at": at, "outcome": outcome,
                           "matched": "registered_holder" if outcome == "passed" else "unknown"})
            if outcome != "passed":
                play.end = at + timedelta(minutes=1)  # kicked off
        return checks

    # ------------------------------------------------------------------ sessions

    def _plays(self, rng, payments, clocks, players, devices) -> list[Play]:
        s = self.p.sessions
        median, sigma = s.duration_minutes
        lo, hi = s.before_payment_minutes
        before = lo + (hi - lo) * rng.random(len(payments))
        after = rng.lognormal(math.log(median / 2), sigma, len(payments))
        plays: list[Play] = []
        for pay, b, a in zip(payments, before.tolist(), after.tolist(), strict=True):
            play = Play(pay.at - timedelta(minutes=b), pay.at + timedelta(minutes=a), pay.actor, pay.device)
            plays.append(self._clip(play, clocks[pay.actor], pay.at) if clocks[pay.actor].restricted else play)
        window = clocks[CHILD].window
        for actor in sorted(players):
            n = min(int(rng.poisson(s.play_sessions_per_day[actor] * window.days)), s.max_sessions)
            starts = clocks[actor].sample(rng, n)
            lengths = rng.lognormal(math.log(median), sigma, len(starts)).tolist()
            for start, length in zip(starts, lengths, strict=True):
                play = Play(start, start + timedelta(minutes=length), actor, devices[actor])
                plays.append(self._clip(play, clocks[actor], start) if clocks[actor].restricted else play)
        return _merge(plays)[: s.max_sessions]

    @staticmethod
    def _clip(play: Play, clock: Clock, anchor: datetime) -> Play:
        span = clock.allowed_span(anchor)
        if span is not None:
            play.start = max(play.start, span[0])
            play.end = min(play.end, span[1])
        return play

    # ------------------------------------------------------------------ the evidence bundle

    def _assemble(self, rng, seed, k, scenario, window, hh, holder_key, holder, created, verified_at, compliant,
                  face_platform, kind, game, payments, plays, face_checks, child_age) -> dict[str, Any]:
        p = self.p
        n = p.noise
        fmt = _formatter(rng, n)
        minor_amount = sum(x.amount for x in payments if x.disputed and x.status == "success" and x.actor == CHILD)
        disputed_amount = sum(x.amount for x in payments if x.disputed and x.status == "success")
        keep_failed = rng.random() < n.failed_attempts_kept
        no_device = rng.random() < n.device_missing
        recharges = []
        for i, pay in enumerate(payments):
            if pay.status == "failed" and not keep_failed:
                continue
            recharges.append({
                "id": f"ord-{k:06d}-{i:03d}", "at": fmt(pay.at), "amount": pay.amount, "currency": "CNY",
                "item": pay.item, "channel": pay.channel, "payer": pay.payer,
                "device_id": None if no_device else pay.device, "status": pay.status,
                "disputed": pay.disputed, "by_minor": pay.actor == CHILD,
            })
        if recharges and rng.random() < n.duplicate_recharge:
            j = int(rng.integers(len(recharges)))
            recharges.insert(j + 1, dict(recharges[j]))

        case: dict[str, Any] = {
            "format": "assessor.case/1",
            "case_id": f"SIM-{seed}-{k:06d}",
            "timezone": "Asia/Shanghai",
            "claim": self._claim(rng, hh, window, child_age),
            "account": {
                "account_id": f"u-{int(rng.integers(10**7, 10**8))}",
                "platform": kind,
                "game": game.name,
                "created_at": fmt(created),
                "real_name": self._real_name(rng, hh, holder_key, holder, verified_at, fmt),
                "face_checks": [] if rng.random() < n.face_checks_missing else [
                    {**c, "at": fmt(c["at"])} for c in sorted(face_checks, key=lambda c: c["at"])
                ],
            },
            "recharges": recharges,
        }
        self._session_evidence(rng, case, plays, holder_key, fmt, no_device)
        chats = self._chats(rng, plays, child_age, fmt)
        if chats:
            case["chats"] = chats
        case["label"] = {
            "minor_payer": minor_amount * 2 > disputed_amount,
            "source": "simulated",
            "scenario": scenario,
            "world": {
                "registered_holder": {"own_id": "child"}.get(holder_key, holder_key),
                "compliant_platform": compliant,
                "face_check_platform": face_platform,
                "minor_rules_from": max(verified_at, datetime.combine(p.dates.caps_effective, datetime.min.time()))
                .isoformat(timespec="seconds") if (holder_key == "own_id" and verified_at) else None,
                "child_age_at_start": child_age,
                "window": [window.start.isoformat(), window.end.isoformat()],
                "minor_share_of_disputed": round(minor_amount / disputed_amount, 4),
            },
        }
        return case

    def _claim(self, rng, hh: Household, window: Window, child_age: int) -> dict[str, Any]:
        a = self.p.account
        season = None
        kinds = set(window.child_kind.tolist())
        if VACATION in kinds:
            season = "暑假" if window.start.month in (6, 7, 8) else "寒假"
        elif ONLINE in kinds:
            season = "上网课期间"
        writer = Writer(self.t, child_age=child_age)
        minor_id = hh.child.id_number if rng.random() < 0.3 else None
        guardian_id = hh.claimant.id_number if rng.random() < 0.3 else None
        masked = rng.random() < a.id_masked
        return {
            "minor_birth_date": hh.child.birth.isoformat(),
            "minor_id_number": ids.mask(minor_id) if (minor_id and masked) else minor_id,
            "guardian_id_number": ids.mask(guardian_id) if (guardian_id and masked) else guardian_id,
            "relation": hh.relation,
            "statement": writer.statement(rng, season=season),
            "disputed_recharge_ids": None,
        }

    def _real_name(self, rng, hh, holder_key, holder, verified_at, fmt) -> dict[str, Any] | None:
        a = self.p.account
        if rng.random() < a.real_name_missing:
            return None
        if holder is None:
            return {"status": "guest", "id_number": None, "birth_date": None, "holder": "unknown",
                    "method": None, "verified_at": None}
        if holder is hh.child:
            reported = "claimed_minor"
        elif holder is hh.claimant or holder.role in ("mother", "father"):
            reported = "guardian"
        else:
            reported = "other_adult"
        if rng.random() < a.holder_unknown:
            reported = "unknown"
        number: str | None = holder.id_number
        birth = None
        if rng.random() < a.birth_date_only:
            number, birth = None, holder.birth.isoformat()
        elif rng.random() < a.id_masked:
            number = ids.mask(holder.id_number)
        return {"status": "verified", "id_number": number, "birth_date": birth, "holder": reported,
                "method": "id_check", "verified_at": fmt(verified_at)}

    def _session_evidence(self, rng, case, plays: list[Play], holder_key, fmt, no_device) -> None:
        n = self.p.noise
        if not plays or rng.random() < n.sessions_missing:
            return
        shift = timedelta(0)
        if rng.random() < n.clock_skew:
            shift = timedelta(minutes=float(rng.normal(0, n.clock_skew_minutes)))
        if rng.random() < n.utc_session_log:
            shift -= timedelta(hours=8)
        if rng.random() < self.p.sessions.as_login_traces:
            pi = "".join("0123456789abcdefghijklmnopqrstuvwxyz"[c] for c in rng.integers(0, 36, size=38))
            traces = []
            for i, play in enumerate(plays):
                for bt, moment in ((1, play.start), (0, play.end)):
                    traces.append({"si": f"s{i + 1}", "bt": bt,
                                   "ot": int((moment + shift).replace(tzinfo=_TZ).timestamp()),
                                   "ct": 2 if holder_key == "guest" else 0,
                                   "di": None if no_device else play.device,
                                   "pi": None if holder_key == "guest" else pi})
            case["login_traces"] = sorted(traces, key=lambda t: t["ot"])
            return
        case["sessions"] = [
            {"id": f"s{i + 1}", "start": fmt(play.start + shift), "end": fmt(play.end + shift),
             "device_id": None if no_device else play.device, "ip": None}
            for i, play in enumerate(plays)
        ]

    def _chats(self, rng, plays: list[Play], child_age: int, fmt) -> list[dict[str, Any]]:
        c = self.p.chat
        if not plays or rng.random() >= c.present:
            return []
        writer = Writer(self.t, child_age=child_age)
        silent = {actor: rng.random() < c.never_chats[actor] for actor in (CHILD, ADULT)}
        rate = {actor: float(rng.lognormal(math.log(c.messages_per_hour[0]), c.messages_per_hour[1]))
                for actor in (CHILD, ADULT)}
        registers = {CHILD: c.child_register, ADULT: c.adult_register}
        # Decide who speaks in which session first; write only the lines the export keeps.
        slots: list[tuple[Play, str, dict[str, float]]] = []
        for play in plays:
            hours = max((play.end - play.start).total_seconds() / 3600, 0.05)
            own = 0 if silent[play.actor] else int(rng.poisson(rate[play.actor] * hours))
            others = int(rng.poisson(c.other_speakers_per_hour * hours))
            slots += [(play, "account", registers[play.actor])] * own + [(play, "other", c.other_register)] * others
        if len(slots) > c.max_messages:
            slots = [slots[i] for i in sorted(rng.choice(len(slots), size=c.max_messages, replace=False).tolist())]
        offsets = rng.random(len(slots))
        lines = sorted(
            ((play.start + (play.end - play.start) * float(u), speaker, writer.line(_pick(rng, mix), rng))
             for (play, speaker, mix), u in zip(slots, offsets, strict=True)),
            key=lambda x: x[0],
        )
        chats = [{"id": f"m{i + 1}", "at": fmt(at), "speaker": speaker, "channel": _pick(rng, c.channels),
                  "text": text} for i, (at, speaker, text) in enumerate(lines)]
        if chats and rng.random() < self.p.noise.duplicate_chat:
            j = int(rng.integers(len(chats)))
            chats.insert(j + 1, dict(chats[j]))
        return chats


def _payer_label(channel: str, wallet: str) -> str:
    """How a payment account shows in an export: masked, tied to the wallet's owner."""
    if channel == "wechat":
        return f"微信用户(尾号{wallet})"
    if channel == "alipay":
        return f"支付宝 {wallet[:1]}***{wallet[-1:]}"
    if channel == "apple_iap":
        return f"Apple ID a***{wallet}@icloud.com"
    if channel == "bank_card":
        return f"银行卡尾号{wallet}"
    return f"用户{wallet}"


def _merge(plays: list[Play]) -> list[Play]:
    """Overlapping sessions of the same device become one (a player does not log in twice)."""
    merged: list[Play] = []
    for play in sorted(plays, key=lambda x: (x.device, x.start)):
        last = merged[-1] if merged else None
        if last is not None and last.device == play.device and play.start <= last.end:
            last.end = max(last.end, play.end)
        elif play.end > play.start:
            merged.append(play)
    return sorted(merged, key=lambda x: x.start)


def _enforce_majority(payments: list[Payment], minor_major: bool) -> None:
    """Mixed cases: drop the minority payer's largest payments until the intended side paid more."""
    minority = ADULT if minor_major else CHILD

    def sums() -> tuple[float, float]:
        ok = [x for x in payments if x.disputed and x.status == "success"]
        return (sum(x.amount for x in ok if x.actor != minority), sum(x.amount for x in ok if x.actor == minority))

    major, minor = sums()
    while minor >= major and minor > 0:
        candidates = [x for x in payments if x.actor == minority and x.disputed and x.status == "success"]
        payments.remove(max(candidates, key=lambda x: x.amount))
        major, minor = sums()


def _formatter(rng: np.random.Generator, noise) -> Any:
    """Timestamp style of one export: ISO, ISO with +08:00, or '2024/07/21 22:14:05'."""
    u = rng.random()
    if u < noise.offset_timestamps:
        return lambda t: None if t is None else t.isoformat(timespec="seconds") + "+08:00"
    if u < noise.offset_timestamps + noise.slash_timestamps:
        return lambda t: None if t is None else t.strftime("%Y/%m/%d %H:%M:%S")
    return lambda t: None if t is None else t.isoformat(timespec="seconds")
