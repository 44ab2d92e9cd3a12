"""Fold lead histories into a :class:`Report`. Pure: facts, rules, period and ``now`` in; figures out.

Every ownership spell (see :mod:`.spells`) counts for its rep, the rep's team (the team its routing rule
named, else the rep's first team), the lead's source and campaign, and the totals. Lead-level facts (MQL
delivered, converted, stale, disposition) count for the rep who owned the lead at the time (the closer for a
disposition, the current or last owner otherwise); a lead no rep ever owned counts for its team, source and
campaign only. One lead is held at a time, so memory grows with the number of groups and ownerships, not
with the activity history.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from crmsync.reports.compute.capacity import capacity_figures, local_day
from crmsync.reports.compute.facts import LeadFacts, LeadHistory, Period, RepFacts
from crmsync.reports.compute.model import RepFigures, Report
from crmsync.reports.compute.rules import NO_TEAM, ReportRules, SlaTier
from crmsync.reports.compute.spells import OWNING_KINDS, Spell, spells_of
from crmsync.reports.compute.tally import Outcome, Tally

UNKNOWN_SOURCE = "(unknown)"
NO_CAMPAIGN = "(none)"
NO_DISPOSITION = "(no reason)"
HISTOGRAM = ((15, "< 15 min"), (60, "15–60 min"), (240, "1–4 h"), (480, "4–8 h"), (960, "8–16 h"), (2400, "16–40 h"))
"""Buckets of business minutes to first touch (upper bound, label); hours are business hours, not days,
since working days differ in length between calendars."""
OVER_LAST = "≥ 40 h"


def build_report(
    histories: Iterable[LeadHistory], reps: Iterable[RepFacts], rules: ReportRules, period: Period, now: datetime
) -> Report:
    """The report of ``period`` as of ``now`` over ``histories`` (each lead once), ``reps`` naming owners.

    Owners absent from ``reps``, queues and the policy's holding owners are not reps: their ownerships are
    not counted (a lead waiting with a holding owner still counts as delivered, stale and inflow).
    """
    fold = _Fold(reps, rules, period, now)
    for history in histories:
        fold.add(history)
    return fold.finish()


class _Fold:
    def __init__(self, reps: Iterable[RepFacts], rules: ReportRules, period: Period, now: datetime) -> None:
        self.rules, self.period, self.now = rules, period, now
        held = {h.lower() for h in rules.holding_owners}
        self.reps = {r.owner_id: r for r in reps if r.kind == "user" and not _held(r, held)}
        self.by_rep: defaultdict[str, Tally] = defaultdict(Tally)
        self.by_team: defaultdict[str, Tally] = defaultdict(Tally)
        self.by_source: defaultdict[str, Tally] = defaultdict(Tally)
        self.by_campaign: defaultdict[str, Tally] = defaultdict(Tally)
        self.total = Tally()
        self.histogram: Counter[str] = Counter()
        self.inflow: Counter[tuple[str, date]] = Counter()

    def is_rep(self, owner_id: str | None) -> bool:
        return owner_id is not None and owner_id in self.reps

    def targets(self, lead: LeadFacts, team: str, owner_id: str | None) -> list[Tally]:
        found = [
            self.by_team[team],
            self.by_source[lead.source or UNKNOWN_SOURCE],
            self.by_campaign[lead.campaign or NO_CAMPAIGN],
            self.total,
        ]
        return [self.by_rep[owner_id], *found] if owner_id is not None else found

    def team_of(self, spell: Spell) -> str:
        routed = self.rules.rule_teams.get(spell.rule) if spell.rule else None
        return routed or self.rules.team_of(self.reps[spell.owner_id].email)

    def add(self, history: LeadHistory) -> None:
        lead = history.lead
        tier = self.rules.tier_for(lead.sla_tier, lead.fields)
        if tier is None:
            spells = spells_of(history, self.is_rep, self.now)
        else:
            spells = spells_of(history, self.is_rep, self.now, tier.count_automated, tier.channels)
        for spell in spells:
            self._add_spell(lead, spell, tier)
        self._add_reopens(history)
        self._add_close(history, spells)
        if lead.mql:
            self._add_mql(history, spells)

    def _add_spell(self, lead: LeadFacts, spell: Spell, tier: SlaTier | None) -> None:
        targets = self.targets(lead, self.team_of(spell), spell.owner_id)
        if self.period.contains(spell.start):
            outcome = self._outcome(lead, spell, tier)
            if outcome.first_touch_minutes is not None:
                self.histogram[_bucket(outcome.first_touch_minutes)] += 1
            for tally in targets:
                tally.add_ownership(outcome)
                tally.reassignments_in += spell.start_kind == "reassign"
        if spell.end is not None and self.period.contains(spell.end):
            moved = spell.end_kind == "reassign"
            recycled = spell.end_kind == "recycle"
            breach = moved or (recycled and not self._unresponsive(spell.end_reason))
            for tally in targets:
                tally.reassignments_out += moved
                tally.recycles += recycled
                tally.breaches += breach

    def _unresponsive(self, reason: str | None) -> bool:
        """A recycle for a completed cadence with no reply: the rep did the work, so it is no breach."""
        prefix = self.rules.unresponsive_reason.strip().lower()
        return bool(prefix) and (reason or "").strip().lower().startswith(prefix)

    def _outcome(self, lead: LeadFacts, spell: Spell, tier: SlaTier | None) -> Outcome:
        rep = self.reps[spell.owner_id]
        calendar = self.rules.calendar_for(rep.email, rep.timezone)
        deadline = calendar.add(spell.start, tier.first_touch) if tier is not None else None
        channels = Counter(t.channel for t in spell.touches)
        minutes = float(sum(t.duration_minutes or 0 for t in spell.touches if t.channel != "email"))
        minutes += channels["email"] * self.rules.minutes_per_email
        attractive = self.rules.attractive(lead.fields)
        if not spell.touches:
            horizon = min(spell.end or self.now, self.now)
            status = "missed" if deadline is not None and deadline <= horizon else "pending"
            status = "ended" if status == "pending" and spell.end is not None else status
            return Outcome(status, None, channels, minutes, attractive)
        first = spell.touches[0].occurred_at
        elapsed = calendar.between(spell.start, first).total_seconds() / 60
        status = "in_sla" if deadline is None or first <= deadline else "late"
        return Outcome(status, elapsed, channels, minutes, attractive)

    def _add_reopens(self, history: LeadHistory) -> None:
        for event in history.assignments:
            if event.kind == "reopen" and self.is_rep(event.owner_id) and self.period.contains(event.at):
                owner = self.reps[event.owner_id or ""]
                team = self.rules.rule_teams.get(event.rule or "") or self.rules.team_of(owner.email)
                for tally in self.targets(history.lead, team, owner.owner_id):
                    tally.early_closes += 1

    def _add_close(self, history: LeadHistory, spells: list[Spell]) -> None:
        lead, closed = history.lead, history.lead.closed_at
        if closed is None or not self.period.contains(closed) or closed > self.now:
            return
        spell = next((s for s in reversed(spells) if s.covers(closed)), None)
        team = self.team_of(spell) if spell is not None else self._lead_team(lead, None)
        targets = self.targets(lead, team, spell.owner_id if spell is not None else None)
        by_crmsync = lead.closed_by_crmsync or spell is None or (spell.end == closed and spell.end_kind == "recycle")
        effort = 0 if spell is None else sum(1 for t in spell.touches if t.occurred_at <= closed)
        reopened = any(e.kind == "reopen" and e.at >= closed for e in history.assignments)  # counted as a reopen
        early = not (by_crmsync or reopened) and effort < self.rules.min_touches_before_close
        for tally in targets:
            tally.dispositions[lead.disposition or NO_DISPOSITION] += 1
            tally.early_closes += early

    def _add_mql(self, history: LeadHistory, spells: list[Spell]) -> None:
        lead = history.lead
        mql_at = _mql_date(history)
        last = spells[-1] if spells else None
        team = self.team_of(last) if last is not None else self._lead_team(lead, history)
        targets = self.targets(lead, team, last.owner_id if last is not None else None)
        open_now = not (lead.converted or lead.deleted or lead.closed_at is not None)
        stale = open_now and mql_at <= self.now - self.rules.stale_after
        untouched = stale and not any(s.touches for s in spells)
        delivered = self.period.contains(mql_at)
        for tally in targets:
            tally.stale += stale
            tally.stale_untouched += untouched
            tally.delivered += delivered
            tally.converted += delivered and lead.converted
        if delivered:
            first_team = self.team_of(spells[0]) if spells else self._lead_team(lead, history)
            self.inflow[(first_team, local_day(self.rules.calendar, mql_at))] += 1

    def _lead_team(self, lead: LeadFacts, history: LeadHistory | None) -> str:
        rules = [e.rule for e in history.assignments if e.rule] if history is not None else []
        return next((self.rules.rule_teams[r] for r in rules if r in self.rules.rule_teams), NO_TEAM)

    def finish(self) -> Report:
        rules = self.rules
        order = {t.name: i for i, t in enumerate(rules.teams)}
        teams = sorted(self.by_team.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        histogram = [(label, self.histogram[label]) for _, label in HISTOGRAM]
        return Report(
            period=self.period,
            as_of=self.now,
            timezone=str(rules.calendar.tz),
            min_sample=rules.min_sample,
            totals=self.total.figures("all"),
            reps=self._reps(),
            teams=tuple(t.figures(k) for k, t in teams),
            sources=tuple(t.figures(k) for k, t in sorted(self.by_source.items())),
            campaigns=tuple(t.figures(k) for k, t in sorted(self.by_campaign.items())),
            capacity=capacity_figures(self.inflow, rules, self.period),
            first_touch_histogram=(*histogram, (OVER_LAST, self.histogram[OVER_LAST])),
        )

    def _reps(self) -> tuple[RepFigures, ...]:
        found = []
        for owner_id, tally in self.by_rep.items():
            rep = self.reps[owner_id]
            email = rep.email or owner_id
            found.append(
                RepFigures(
                    owner_id=owner_id,
                    email=email,
                    name=rep.name,
                    team=self.rules.team_of(rep.email),
                    figures=tally.figures(email),
                    cherry_pick=tally.cherry_pick(self.rules.min_sample),
                    touch_gini=tally.touch_gini(),
                    effort_gini=tally.effort_gini(),
                )
            )
        return tuple(sorted(found, key=lambda r: (r.team, r.email)))


def _held(rep: RepFacts, held: set[str]) -> bool:
    """Whether ``rep`` is a holding owner: its id (with or without its ``connection:`` prefix) or email is listed."""
    raw = rep.owner_id.removeprefix(f"{rep.connection}:")
    return bool({rep.owner_id.lower(), raw.lower(), (rep.email or "").lower()} & held)


def _mql_date(history: LeadHistory) -> datetime:
    """When the lead became an MQL: its first routing-type assignment, else ``assigned_at``, else creation."""
    owning = [e.at for e in history.assignments if e.kind in OWNING_KINDS]
    if owning:
        return min(owning)
    return history.lead.assigned_at or history.lead.created_at


def _bucket(minutes: float) -> str:
    return next((label for bound, label in HISTOGRAM if minutes < bound), OVER_LAST)
