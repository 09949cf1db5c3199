"""Load data for benchmarks: ``flask --app tracker generate-load --cases 1000000 --units 2000``.

For benchmark databases only. It never changes or deletes what is there; it ADDS a new
organisation tree (a company, counties, stations, halls and teams; every code starts with
``LG-``), a few accounts to act in the history, and ``cases`` cases received over the last three
years, with what a case collects on its way: deadlines (some overdue), the history (a correct
continuation of the hash chain), responsibilities and measures, audits with their results for
audit findings, and attachments' metadata (rows only, no files). Run it twice and you have two
trees and twice the cases.

The cases are not replayed through the operations (a million would take hours); their rows
are written directly in batches: COPY on PostgreSQL, multi-row INSERTs on SQLite. Each case runs
through the real workflow in simulated time (received → inquiry → determination or unfounded →
rectification → closed → follow-up call) and stops where "now" catches it, so old cases are
mostly closed and recent ones open. Every step is a history event with the payload the
operation would have written; events are appended in time order across cases, hashed with
``tracker.core.history.compute_hash`` in sequence, and the chain head is moved in the same
transaction as each batch, so the chain verifies after every committed batch. The statistics
roll-up (``tracker.reports.stats``) is rebuilt once at the end: until then the dashboards do
not count the new cases.

Simplifications, none visible to the features measured: working days are approximated as
7/5 calendar days; measures of closed cases are done without a ``complete_measure`` event;
no warning interviews, merges or notifications are generated.
"""
import heapq
import json
import math
import queue
import random
import secrets
import sqlite3
import threading
import time
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import accumulate

from sqlalchemy import func, select, text

from tracker.accounts.models import User
from tracker.accounts.passwords import hash_password
from tracker.accounts.states import Role
from tracker.cases.models import Attachment, Case, Deadline, Measure, Responsibility, ViolationType
from tracker.core.database import UTCDateTime
from tracker.core.history import HistoryHead, compute_hash, event_payload
from tracker.extensions import db
from tracker.reports import stats
from tracker.seed import data_cases
from tracker.units.models import Unit

CODE_PREFIX = "LG-"
YEARS = 3
LOCAL = timedelta(hours=8)  # Beijing time, no daylight saving

CHANNEL_WEIGHTS = {
    "hotline_95598": 58, "regulator_12398": 5, "petition": 6, "media": 3,
    "external_supervisor": 4, "walk_in": 10, "online": 12, "audit": 2,
}
COMPLAINT_CHANNELS = frozenset(CHANNEL_WEIGHTS) - {"audit"}
# Share of cases assigned to units of each level (the front line gets most complaints).
LEVEL_SHARE = {"county": 0.05, "station": 0.22, "hall": 0.45, "team": 0.28}
RECTIFICATION_DAYS = {"general": 10, "serious": 15, "grave": 20}
MEASURE_KINDS = ("circulated_criticism", "written_self_examination", "performance_points", "fine")

PLACE_SYLLABLES = "清河安澜桃李松柏青云白沙东平西岭南湖北山金水石桥长乐永安福田新城龙泉凤鸣溪口梅林"
STATION_SUFFIXES = ("镇", "乡", "街道", "开发区")
TEAM_KINDS = ("抢修班", "营销班", "台区经理班", "运维班")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰德福海燕春梅"
FILE_KINDS = (("现场照片", "jpg", "image/jpeg"), ("录音", "mp3", "audio/mpeg"), ("工单截图", "png", "image/png"),
              ("整改报告", "pdf", "application/pdf"))


@dataclass
class LoadReport:
    tag: str = ""
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    history_from_seq: int = 0
    history_to_seq: int = 0

    def rate(self, table="cases"):
        return self.counts.get(table, 0) / self.seconds if self.seconds else 0.0


# --- writing rows -----------------------------------------------------------------------------


class _Sink:
    """Bulk rows into one table: COPY on PostgreSQL, multi-row INSERTs on SQLite (raw DBAPI, no ORM).

    Values must already be in the database's text form (see ``_Formats``).
    """

    def __init__(self, connection):
        self.connection = connection
        self.dialect = connection.dialect.name
        self.raw = connection.connection.driver_connection

    def write(self, table: str, columns, rows) -> int:
        if not rows:
            return 0
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Multi-row VALUES, not executemany: a statement that fires the text-search trigger
            # makes FTS5 write a segment, so one statement per row costs a segment per case
            # (tracker.core.database.bulk_insert).
            most_values = self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            per_statement = max(1, min(1000, most_values // len(columns)))
            marks = "(" + ", ".join("?" * len(columns)) + ")"
            cursor = self.raw.cursor()
            for start in range(0, len(rows), per_statement):
                chunk = rows[start:start + per_statement]
                cursor.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))}",
                               [value for row in chunk for value in row])
            cursor.close()
        return len(rows)


class _Formats:
    """How a value is written: SQLAlchemy's storage format on SQLite (naive UTC text with
    microseconds, 0/1, JSON text); ISO text with an offset and booleans on PostgreSQL."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"

    def ts(self, moment):
        if moment is None:
            return None
        if self.sqlite:
            return moment.isoformat(" ", "microseconds")
        return moment.isoformat(" ", "microseconds") + "+00"

    def flag(self, value: bool):
        return int(value) if self.sqlite else value

    @staticmethod
    def json(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Event:
    """What ``event_payload`` reads; ``at`` is aware, as the column gives it back."""

    __slots__ = ("seq", "at", "actor_id", "actor_name", "action", "subject", "data")

    def __init__(self, seq, at, actor_id, actor_name, action, subject, data):
        self.seq, self.at, self.actor_id, self.actor_name = seq, at, actor_id, actor_name
        self.action, self.subject, self.data = action, subject, data


# --- the generator ----------------------------------------------------------------------------


def _next_id(column) -> int:
    return (db.session.scalar(select(func.max(column))) or 0) + 1


def _local_year(moment: datetime) -> int:
    return (moment + LOCAL).year


def _due(start: datetime, working_days: int) -> datetime:
    """23:59:59 Beijing time on the day ~``working_days`` working days after ``start``."""
    day = (start + LOCAL).date() + timedelta(days=math.ceil(working_days * 7 / 5))
    return datetime(day.year, day.month, day.day, 15, 59, 59)


class _Generator:
    def __init__(self, *, cases, units, seed, batch, echo, now):
        self.total_cases, self.total_units, self.batch, self.echo = cases, units, batch, echo
        self.rng = random.Random(seed)
        self.now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
        self.fmt = _Formats(db.engine.dialect.name)
        self.counts = {}
        self.pending = []  # heap of events not yet appended: (at, tiebreak, event fields)
        self.tiebreak = 0

    # -- reference data and the tree ----------------------------------------------------------

    def prepare(self):
        from tracker.catalogue.operations import seed_violation_types

        if not db.session.scalar(select(func.count()).select_from(ViolationType)):
            seed_violation_types()
        self.templates = self._checklists()
        db.session.commit()
        types = db.session.execute(
            select(ViolationType.id, ViolationType.code, ViolationType.severity).where(ViolationType.active.is_(True))
        ).all()
        self.types = {code: (type_id, severity.value) for type_id, code, severity in types}
        self.type_list = list(self.types.values())
        self.type_codes = {type_id: code for code, (type_id, _severity) in self.types.items()}
        existing = db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.code.like(f"{CODE_PREFIX}%"), Unit.parent_id.is_(None))
        )
        self.tag = f"{CODE_PREFIX}{existing + 1}"
        while db.session.scalar(select(Unit.id).where(Unit.code == self.tag)) is not None:
            existing += 1
            self.tag = f"{CODE_PREFIX}{existing + 1}"
        self.first_unit_id = _next_id(Unit.id)
        db.session.commit()  # SQLite: release the write lock before the batch connections take it

    def _checklists(self):
        """Active checklist templates with their items, seeding the standard ones if none exist."""
        try:
            from tracker.audits.models import ChecklistItem, ChecklistTemplate
        except ImportError:
            return []
        if not db.session.scalar(select(func.count()).select_from(ChecklistTemplate)):
            try:
                from tracker.audits.operations import seed_checklists

                seed_checklists()
            except ImportError:
                return []
        rows = db.session.execute(
            select(ChecklistTemplate.id, ChecklistTemplate.kind, ChecklistItem.id, ChecklistItem.weight,
                   ChecklistItem.critical, ChecklistItem.text)
            .join(ChecklistItem, ChecklistItem.template_id == ChecklistTemplate.id)
            .where(ChecklistTemplate.active.is_(True))
            .order_by(ChecklistTemplate.id, ChecklistItem.id)
        ).all()
        templates = {}
        for template_id, kind, item_id, weight, critical, item_text in rows:
            templates.setdefault(template_id, (kind.value, []))[1].append((item_id, weight, critical, item_text))
        return [(template_id, kind, items) for template_id, (kind, items) in templates.items()]

    def _name(self, n=2):
        return "".join(self.rng.choice(PLACE_SYLLABLES) for _ in range(n))

    def person(self):
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def build_tree(self, sink):
        """A company > counties > stations > halls and teams tree of ``total_units`` units."""
        rng, now = self.rng, self.fmt.ts(self.now)
        next_id = self.first_unit_id
        rows, units = [], []  # units: (id, code, path, level, parent index, name)

        def add(code, name, level, parent):
            nonlocal next_id
            unit_id = next_id
            next_id += 1
            path = f"{units[parent][2] if parent is not None else '/'}{unit_id}/"
            units.append((unit_id, code, path, level, parent, name))
            rows.append((unit_id, code, name[:120], level, units[parent][0] if parent is not None else None,
                         path, self.fmt.flag(True), now))
            return len(units) - 1

        total = max(self.total_units, 4)
        company = add(self.tag, f"国网{self._name()}市供电公司（负载测试{self.tag}）", "company", None)
        n_counties = max(1, round(total / 100))
        n_stations = max(n_counties, round(total / 10))
        n_leaves = max(0, total - 1 - n_counties - n_stations)
        # Counties differ in size: a few big ones, many small ones.
        county_weights = [rng.lognormvariate(0, 0.5) for _ in range(n_counties)]
        station_counts = _split(n_stations, county_weights, minimum=1)
        counties, stations = [], []
        for c in range(n_counties):
            county = add(f"{self.tag}-{c + 1:02d}", f"{self._name()}县供电公司", "county", company)
            counties.append(county)
            for s in range(station_counts[c]):
                suffix = rng.choice(STATION_SUFFIXES)
                stations.append(add(f"{self.tag}-{c + 1:02d}-{s + 1:02d}", f"{self._name()}{suffix}供电所",
                                    "station", county))
        leaf_counts = _split(n_leaves, [rng.lognormvariate(0, 0.4) for _ in stations], minimum=0)
        for station, count in zip(stations, leaf_counts):
            station_code, station_name = units[station][1], units[station][5]
            for k in range(count):
                if k == 0 or rng.random() < 0.25:
                    add(f"{station_code}-H{k + 1}", f"{station_name}第{k + 1}营业厅", "hall", station)
                else:
                    add(f"{station_code}-T{k + 1}", f"{station_name}{rng.choice(TEAM_KINDS)}{k + 1}",
                        "team", station)
        sink.write("units", ("id", "code", "name", "level", "parent_id", "path", "active", "created_at"), rows)
        self.counts["units"] = len(rows)
        self.units = units
        self.counties = counties
        self.county_of = {}
        for index, unit in enumerate(units):
            ancestor = index
            while ancestor is not None and units[ancestor][3] != "county":
                ancestor = units[ancestor][4]
            self.county_of[index] = ancestor if ancestor is not None else counties[0]
        # Case weights: by level share, then by a per-unit activity factor.
        by_level = {}
        for index, unit in enumerate(units):
            by_level.setdefault(unit[3], []).append(index)
        self.case_units, weights = [], []
        for level, share in LEVEL_SHARE.items():
            members = by_level.get(level) or by_level["county"]
            activity = [rng.lognormvariate(0, 0.7) for _ in members]
            scale = share / sum(activity)
            self.case_units.extend(members)
            weights.extend(a * scale for a in activity)
        self.case_unit_cum = list(accumulate(weights))
        self.audit_units = by_level.get("hall") or by_level["station"]

    def create_users(self):
        """Accounts that act in the generated history: supervisors, and a head per county.

        Nobody is meant to log in as them: they share one hash of a random password."""
        password_hash = hash_password(secrets.token_urlsafe(24))
        tag = self.tag.lower().replace("-", "")
        supervisors = [
            User(username=f"{tag}_sup{i}", display_name=f"督查员{self.person()}", password_hash=password_hash,
                 role=Role.supervisor)
            for i in range(1, 7)
        ]
        heads = {
            county: User(username=f"{tag}_head{n + 1:02d}", display_name=self.person(), password_hash=password_hash,
                         role=Role.unit_head, unit_id=self.units[county][0])
            for n, county in enumerate(self.counties)
        }
        db.session.add_all([*supervisors, *heads.values()])
        db.session.flush()
        self.supervisors = [(u.id, u.username) for u in supervisors]
        self.heads = {county: (u.id, u.username) for county, u in heads.items()}
        self.counts["users"] = len(supervisors) + len(heads)

    # -- the cases -----------------------------------------------------------------------------

    def received_times(self):
        """``total_cases`` sorted receipt times over three years: more in summer (outages and
        bills), fewer at weekends, mostly in office hours, Beijing time."""
        rng = self.rng
        end = self.now - timedelta(minutes=30)
        start = end - timedelta(days=365 * YEARS)
        days = (end - start).days
        day_weights = []
        for d in range(days + 1):
            moment = start + timedelta(days=d)
            season = 1 + 0.35 * math.sin((moment.timetuple().tm_yday - 100) / 365 * 2 * math.pi)
            weekend = 0.6 if (moment + LOCAL).weekday() >= 5 else 1.0
            growth = 0.85 + 0.3 * d / days
            day_weights.append(season * weekend * growth)
        cum = list(accumulate(day_weights))
        hour_weights = list(accumulate([0.2] * 7 + [1.0] * 2 + [2.2] * 9 + [1.2] * 3 + [0.5] * 3))
        local_midnight = datetime(start.year, start.month, start.day) - LOCAL
        times = []
        for _ in range(self.total_cases):
            day = bisect(cum, rng.random() * cum[-1])
            hour = bisect(hour_weights, rng.random() * hour_weights[-1])
            moment = local_midnight + timedelta(days=day, hours=hour, seconds=rng.random() * 3600)
            times.append(min(max(moment, start), end))
        times.sort()
        return times

    def run_cases(self, writer):
        times = self.received_times()
        self.case_id = _next_id(Case.id)
        self.deadline_id = _next_id(Deadline.id)
        self.responsibility_id = _next_id(Responsibility.id)
        self.measure_id = _next_id(Measure.id)
        self.attachment_id = _next_id(Attachment.id)
        self.audit_id = self.audit_result_id = None
        if self.templates:
            from tracker.audits.models import Audit, AuditResult

            self.audit_id, self.audit_result_id = _next_id(Audit.id), _next_id(AuditResult.id)
        head = db.session.get(HistoryHead, 1)
        self.seq, self.prev_hash = head.seq, head.hash
        self.first_seq = self.seq + 1
        db.session.commit()
        for offset in range(0, len(times), self.batch):
            chunk = times[offset:offset + self.batch]
            rows = _Rows()
            for received in chunk:
                self.one_case(received, rows)
            # Later cases' events all come after this batch's last receipt: what is before it is final.
            rows.events = self.hash_events(until=chunk[-1])
            rows.head = (self.seq, self.prev_hash)
            writer.put(rows)
        rows = _Rows()
        rows.events = self.hash_events(until=None)
        rows.head = (self.seq, self.prev_hash)
        writer.put(rows)

    def one_case(self, received, rows):
        rng, fmt, ts = self.rng, self.fmt, self.fmt.ts
        case_id = self.case_id
        self.case_id += 1
        unit_index = self.case_units[bisect(self.case_unit_cum, rng.random() * self.case_unit_cum[-1])]
        unit = self.units[unit_index]
        county = self.county_of[unit_index]
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        scenario = rng.choice(data_cases.CASE_SCENARIOS)
        type_id, type_severity = self.types.get(scenario["violation_type_code"]) or rng.choice(self.type_list)
        created = received + timedelta(minutes=rng.uniform(2, 240))
        if created > self.now:
            created = received + (self.now - received) / 2
        number = f"JD-{_local_year(created)}-{case_id:06d}"
        sup_id, sup_name = self.supervisors[case_id % len(self.supervisors)]
        head_id, head_name = self.heads[county]
        has_complainant = channel in COMPLAINT_CHANNELS and rng.random() > 0.05
        summary, audit_item = scenario["summary"], None
        if channel == "audit" and self.templates:
            template = rng.choice(self.templates)
            audit_item = rng.choice(template[2])
            summary = f"检查发现：{audit_item[3]}"[:200]
        c = {
            "id": case_id, "number": number, "channel": channel, "unit_id": unit[0],
            "received_at": received, "summary": summary, "details": scenario["details"],
            "created_by_id": sup_id, "created_at": created, "inquiry_facts": "", "inquiry_persons": "",
            "inquiry_accountability": "", "external_ref": None,
        }
        if channel == "hotline_95598":
            c["external_ref"] = f"{(received + LOCAL):%Y%m%d}{case_id:08d}"
        elif channel == "regulator_12398":
            c["external_ref"] = f"12398-{case_id:08d}"
        if has_complainant:
            c["complainant_name"] = self.person()
            c["complainant_phone"] = rng.choice(data_cases.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            c["complainant_address"] = rng.choice(data_cases.ADDRESSES)
        if rng.random() < 0.5:  # the supervisor often picks the type at intake
            c["violation_type_id"], c["severity"] = type_id, type_severity
        subject = f"case:{number}"
        events = []
        deadlines = []

        def event(at, action, actor, data):
            events.append((at, actor, action, data))
            return at

        def clock(kind, start, days):
            deadlines.append({"kind": kind, "started_at": start, "due_at": _due(start, days),
                              "met_at": None, "cancelled_at": None})
            return deadlines[-1]

        def meet(kind, at):
            for d in deadlines:
                if d["kind"] == kind and d["met_at"] is None and d["cancelled_at"] is None:
                    d["met_at"] = at

        def cancel_all(at):
            for d in deadlines:
                if d["met_at"] is None and d["cancelled_at"] is None:
                    d["cancelled_at"] = at

        sup, head = (sup_id, sup_name), (head_id, head_name)
        state = "registered"
        event(created, "register", sup, {"to": "registered", "channel": channel, "unit": unit[1],
                                         "external_ref": c["external_ref"], "summary": summary})
        if has_complainant:
            clock("contact", received, 1)
        clock("handling", received, 7)
        if channel == "regulator_12398":
            clock("regulator_reply", received, 10)

        # Where this case is heading; a few get stuck on the way (and run overdue).
        fate = rng.random()
        outcome_plan = "unfounded" if fate < 0.45 else "substantiated" if fate < 0.90 else "partly_substantiated"
        stuck_after = rng.choice(range(1, 9)) if rng.random() < 0.03 else 99
        now = self.now
        t = created
        step = 0

        def advance(low, high):
            nonlocal t, step
            step += 1
            t = t + timedelta(days=rng.uniform(low, high))
            return step < stuck_after and t < now

        if advance(0.02, 2):
            state = "inquiring"
            meet("contact", t)
            event(t, "start_inquiry", sup, {"from": "registered", "to": "inquiring"})
            if advance(0.5, 5):
                persons = scenario["persons"].format(person=self.person())
                c["inquiry_facts"], c["inquiry_persons"] = scenario["facts"], persons
                c["inquiry_accountability"] = scenario["accountability"]
                event(t, "record_inquiry", sup, {"from": "inquiring", "to": "inquiring", "changes": {
                    "facts": {"before": "", "after": scenario["facts"]},
                    "persons": {"before": "", "after": persons},
                    "accountability": {"before": "", "after": scenario["accountability"]}}})
                if rng.random() < 0.15 and advance(0.2, 2):
                    c["explanation_requested_at"] = t
                    due = clock("explanation", t, 3)["due_at"]
                    event(t, "request_explanation", sup, {"from": "inquiring", "to": "inquiring",
                                                          "due_at": due.isoformat() + "+00:00"})
                    if advance(0.5, 3):
                        c["explanation_text"], c["explanation_submitted_at"] = scenario["explanation"], t
                        c["explanation_by_id"] = head_id
                        meet("explanation", t)
                        event(t, "submit_explanation", head, {"from": "inquiring", "to": "inquiring",
                                                              "text": scenario["explanation"]})
                if c["inquiry_facts"] and advance(1, 7):
                    if outcome_plan == "unfounded":
                        state, c["outcome"], c["closed_at"] = "closed", "unfounded", t
                        cancel_all(t)
                        reason = rng.choice(data_cases.UNFOUNDED_REASONS)
                        event(t, "mark_unfounded", sup, {"from": "inquiring", "to": "closed", "reason": reason,
                                                         "outcome": "unfounded"})
                    else:
                        state = self.determine(c, t, unit_index, scenario, type_id, type_severity, outcome_plan,
                                               sup, event, rows)
                        meet("handling", t)
                        meet("regulator_reply", t)
                        for d in deadlines:
                            if d["kind"] == "explanation" and d["met_at"] is None:
                                d["cancelled_at"] = t
                        clock("appeal_window", t, 5)
        if state == "determined" and advance(1, 5):
            if rng.random() < 0.12:
                grounds = rng.choice(data_cases.APPEAL_GROUNDS)
                state, c["appeal_grounds"], c["appealed_at"], c["appealed_by_id"] = "appealed", grounds, t, head_id
                meet("appeal_window", t)
                clock("appeal_decision", t, 5)
                event(t, "appeal", head, {"from": "determined", "to": "appealed", "grounds": grounds})
                if advance(1, 5):
                    decision = _weighted(rng, {"upheld": 6, "amended": 1, "overturned": 3})
                    reason = "经复核，" + ("维持原认定。" if decision != "overturned" else "原认定依据不足，予以撤销。")
                    c["appeal_decision"], c["appeal_reason"] = decision, reason
                    c["appeal_decided_at"], c["appeal_decided_by_id"] = t, self.other_supervisor(sup_id)[0]
                    meet("appeal_decision", t)
                    if decision == "overturned":
                        state, c["outcome"], c["closed_at"] = "closed", "overturned", t
                        cancel_all(t)
                    else:
                        state = "rectifying"
                        clock("rectification", t, RECTIFICATION_DAYS[c["severity"]])
                    event(t, "decide_appeal", (c["appeal_decided_by_id"], self.other_supervisor(sup_id)[1]),
                          {"from": "appealed", "to": state, "decision": decision, "reason": reason})
            else:
                state, c["determination_accepted_at"] = "rectifying", t
                meet("appeal_window", t)
                clock("rectification", t, RECTIFICATION_DAYS[c["severity"]])
                event(t, "accept_determination", head, {"from": "determined", "to": "rectifying"})
        if state == "rectifying" and advance(3, 14):
            state = "rectification_submitted"
            c["rectification_text"], c["rectification_submitted_at"] = scenario["rectification"], t
            c["rectification_submitted_by_id"] = head_id
            meet("rectification", t)
            event(t, "submit_rectification", head, {"from": "rectifying", "to": "rectification_submitted",
                                                    "text": scenario["rectification"]})
            if advance(0.5, 5):
                state, c["rectification_accepted_at"], c["rectification_accepted_by_id"] = "verified", t, sup_id
                event(t, "accept_rectification", sup, {"from": "rectification_submitted", "to": "verified",
                                                       "note": None})
                if advance(0.1, 3):
                    state, c["closed_at"] = "closed", t
                    cancel_all(t)
                    event(t, "close", sup, {"from": "verified", "to": "closed"})
        if state == "closed":
            if has_complainant:
                clock("follow_up", t, 3)
                if rng.random() < 0.97 and advance(0.5, 4):
                    result = _weighted(rng, {"satisfied": 80, "basically_satisfied": 17, "unsatisfied": 3})
                    notes = (data_cases.FOLLOW_UP_NOTES_UNSATISFIED if result == "unsatisfied"
                             else data_cases.FOLLOW_UP_NOTES_SATISFIED)
                    note = rng.choice(notes)
                    c["follow_up_result"], c["follow_up_note"], c["follow_up_at"] = result, note, t
                    meet("follow_up", t)
                    event(t, "record_follow_up", sup, {"from": "closed", "to": "closed", "result": result,
                                                       "note": note})
        if state in ("verified", "closed") and c.get("rectification_accepted_at"):
            for m in rows.open_measures:
                m[6], m[7] = fmt.flag(True), ts(c["rectification_accepted_at"])
        rows.open_measures = []
        c["state"] = state
        c["updated_at"] = events[-1][0]
        c["version"] = len(events)
        if state in ("determined", "appealed", "rectifying", "rectification_submitted", "verified"):
            c.setdefault("violation_type_id", type_id)
        rows.cases.append(c)
        for d in deadlines:
            rows.deadlines.append((self.deadline_id, case_id, d["kind"], ts(d["started_at"]), ts(d["due_at"]),
                                   ts(d["met_at"]), ts(d["cancelled_at"]), None, 0, None))
            self.deadline_id += 1
        for at, (actor_id, actor_name), action, data in events:
            self.tiebreak += 1
            heapq.heappush(self.pending, (at, self.tiebreak, actor_id, actor_name, action, subject, case_id, data))
        if rng.random() < 0.3:
            for k in range(rng.choice((1, 1, 2, 3))):
                label, extension, content_type = rng.choice(FILE_KINDS)
                uploaded = received + timedelta(hours=rng.uniform(1, 72))
                rows.attachments.append((
                    self.attachment_id, case_id, None, f"{uuid.uuid4().hex}.{extension}", f"{label}{k + 1}.{extension}",
                    content_type, rng.randrange(20_000, 5_000_000), secrets.token_hex(32), "",
                    sup_id, ts(min(uploaded, self.now))))
                self.attachment_id += 1
        if audit_item is not None:
            self.audit(c, template, audit_item, unit, sup_id, rows)

    def other_supervisor(self, user_id):
        for candidate in self.supervisors:
            if candidate[0] != user_id:
                return candidate
        return self.supervisors[0]

    def determine(self, c, t, unit_index, scenario, type_id, type_severity, outcome, sup, event, rows):
        rng, fmt = self.rng, self.fmt
        unit = self.units[unit_index]
        severity = type_severity if rng.random() < 0.85 else rng.choice(("general", "serious", "grave"))
        c["outcome"], c["violation_type_id"], c["severity"] = outcome, type_id, severity
        c["determined_at"], c["determined_by_id"] = t, sup[0]
        people = [(unit, self.person(), "direct"), (unit, self.person(), "management")]
        parent = unit[4]
        if parent is not None and rng.random() < 0.6:
            people.append((self.units[parent], self.person(), "leadership"))
        responsibilities, measures = [], []
        for owner, person, kind in people[: rng.choice((1, 2, 2, 3))]:
            rows.responsibilities.append((self.responsibility_id, c["id"], owner[0], person, kind))
            responsibilities.append((self.responsibility_id, {"unit": owner[1], "person_name": person, "kind": kind}))
            self.responsibility_id += 1
        for index in range(len(responsibilities)):
            if index and rng.random() < 0.5:
                continue
            kind = rng.choice(MEASURE_KINDS)
            points = rng.randrange(1, 11) if kind == "performance_points" else None
            amount = rng.choice((200, 500, 1000, 2000)) if kind == "fine" else None
            row = [self.measure_id, c["id"], responsibilities[index][0], kind, points, amount, fmt.flag(False), None]
            rows.measures.append(row)
            rows.open_measures.append(row)
            measures.append({"kind": kind, "responsibility_index": index, "points": points,
                             "amount": f"{amount}.00" if amount is not None else None})
            self.measure_id += 1
        type_code = self.type_codes[type_id]
        event(t, "determine", sup, {
            "from": "inquiring", "to": "determined", "outcome": outcome, "violation_type": type_code,
            "severity": severity, "responsibilities": [r[1] for r in responsibilities], "measures": measures,
        })
        return "determined"

    def audit(self, c, template, failed_item, unit, author_id, rows):
        """The approved audit whose failed item opened this case (audit findings, 问题)."""
        rng, ts, flag = self.rng, self.fmt.ts, self.fmt.flag
        template_id, kind, items = template
        audit_id = self.audit_id
        self.audit_id += 1
        visited = c["received_at"] - timedelta(hours=rng.uniform(4, 72))
        approver = self.other_supervisor(author_id)[0]
        applicable = passed = 0
        critical_failed = False
        for item_id, weight, critical, _text in items:
            if item_id == failed_item[0]:
                result, case_id = "fail", c["id"]
            else:
                result = _weighted(rng, {"pass": 92, "fail": 4, "na": 4})
                case_id = None
            if result != "na":
                applicable += weight
                passed += weight if result == "pass" else 0
            critical_failed = critical_failed or (critical and result == "fail")
            rows.audit_results.append((self.audit_result_id, audit_id, item_id, result,
                                       "现场核实不符合要求" if result == "fail" else "", case_id))
            self.audit_result_id += 1
        score = round(100 * passed / applicable, 2) if applicable else None
        rows.audits.append((
            audit_id, kind, template_id, unit[0], ts(visited), "approved", "", author_id,
            ts(visited + timedelta(hours=2)), ts(c["received_at"]), approver, None,
            0 if critical_failed else score, flag(critical_failed), None, ts(visited), ts(c["received_at"]), 3))
        rows.audit_auditors.append((audit_id, author_id))

    # -- the history ---------------------------------------------------------------------------

    def hash_events(self, *, until):
        """Take, in time order, every pending event up to ``until`` (all if None) and extend the
        hash chain with them; returns the rows to write."""
        ts, rows = self.fmt.ts, []
        pending, seq, prev = self.pending, self.seq, self.prev_hash
        while pending and (until is None or pending[0][0] <= until):
            at, _tie, actor_id, actor_name, action, subject, case_id, data = heapq.heappop(pending)
            seq += 1
            aware = at.replace(tzinfo=timezone.utc)
            digest = compute_hash(prev, event_payload(_Event(seq, aware, actor_id, actor_name, action, subject, data)))
            rows.append((seq, ts(at), actor_id, actor_name, action, subject, case_id, _Formats.json(data), prev,
                         digest))
            prev = digest
        self.seq, self.prev_hash = seq, prev
        return rows


class _Rows:
    """One batch's rows, written parents first."""

    def __init__(self):
        self.cases, self.deadlines, self.responsibilities, self.measures = [], [], [], []
        self.attachments, self.audits, self.audit_results, self.audit_auditors = [], [], [], []
        self.open_measures = []
        self.events, self.head = [], None

    def write(self, sink) -> dict:
        fmt = _Formats(sink.dialect)
        columns = [c.name for c in Case.__table__.columns]
        datetimes = {c.name for c in Case.__table__.columns if isinstance(c.type, UTCDateTime)}
        rows = []
        for c in self.cases:
            rows.append(tuple(fmt.ts(c.get(name)) if name in datetimes else c.get(name) for name in columns))
        counts = {
            "cases": sink.write("cases", columns, rows),
            "audits": sink.write("audits", (
                "id", "kind", "template_id", "unit_id", "visited_at", "state", "note", "author_id", "submitted_at",
                "approved_at", "approved_by_id", "returned_reason", "score", "critical_failed", "plan_entry_id",
                "created_at", "updated_at", "version"), self.audits),
        }
        counts["audit_auditors"] = sink.write("audit_auditors", ("audit_id", "user_id"), self.audit_auditors)
        counts["audit_results"] = sink.write("audit_results", ("id", "audit_id", "item_id", "result", "note",
                                                               "case_id"), self.audit_results)
        counts["deadlines"] = sink.write("deadlines", (
            "id", "case_id", "kind", "started_at", "due_at", "met_at", "cancelled_at", "paused_at", "extended_days",
            "escalated_at"), self.deadlines)
        counts["responsibilities"] = sink.write("responsibilities", ("id", "case_id", "unit_id", "person_name",
                                                                     "kind"), self.responsibilities)
        counts["measures"] = sink.write("measures", ("id", "case_id", "responsibility_id", "kind", "points", "amount",
                                                     "done", "done_at"), [tuple(m) for m in self.measures])
        counts["attachments"] = sink.write("attachments", (
            "id", "case_id", "audit_result_id", "stored_name", "original_name", "content_type", "size", "sha256",
            "note", "uploaded_by_id", "uploaded_at"), self.attachments)
        counts["history_events"] = sink.write("history_events", (
            "seq", "at", "actor_id", "actor_name", "action", "subject", "case_id", "data", "prev_hash", "hash"),
            self.events)
        # The head moves with the events, so the chain verifies after every committed batch.
        seq, digest = self.head
        sink.connection.execute(HistoryHead.__table__.update().where(HistoryHead.id == 1).values(seq=seq, hash=digest))
        return counts


def _weighted(rng, weights: dict):
    total = sum(weights.values())
    pick = rng.random() * total
    for key, weight in weights.items():
        pick -= weight
        if pick < 0:
            return key
    return key


def _split(total, weights, *, minimum):
    """``total`` split in proportion to ``weights``, each part at least ``minimum``."""
    scale = sum(weights)
    parts = [max(minimum, int(total * w / scale)) for w in weights]
    i = 0
    while sum(parts) < total:
        parts[i % len(parts)] += 1
        i += 1
    while sum(parts) > total and any(p > minimum for p in parts):
        j = max(range(len(parts)), key=parts.__getitem__)
        parts[j] -= 1
    return parts


# --- entry point ------------------------------------------------------------------------------


class _Transaction:
    """A batch's transaction: faster commits for the load only (SQLite: no fsync, big cache;
    PostgreSQL: asynchronous commit). A crash may lose the last batches, never corrupt them."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        self.connection = self.engine.connect()
        if self.connection.dialect.name == "sqlite":
            # Outside the transaction (the driver is in autocommit mode until our BEGIN).
            raw = self.connection.connection.driver_connection
            raw.execute("PRAGMA synchronous=OFF")
            raw.execute("PRAGMA cache_size=-262144")  # 256 MiB
        self.transaction = self.connection.begin()
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        return _Sink(self.connection)

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.transaction.commit()
        else:
            self.transaction.rollback()
        self.connection.close()


def _reset_sequences(tables):
    """PostgreSQL: explicit ids were written, so move each serial sequence past them."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as connection:
        for table in tables:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {table}), 1))"
            ))


class _Writer(threading.Thread):
    """Writes batches in a thread of its own while the next batch is generated: the database
    (another process on PostgreSQL; C code without the GIL on SQLite) works in parallel."""

    def __init__(self, engine, echo, total):
        super().__init__(name="loadgen-writer", daemon=True)
        self.engine = engine
        self.queue = queue.Queue(maxsize=2)
        self.echo, self.total = echo, total
        self.totals, self.error = {}, None
        self.started_at = time.perf_counter()

    def put(self, rows):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(rows, timeout=1)
                return
            except queue.Full:
                continue

    def run(self):
        try:
            while (rows := self.queue.get()) is not None:
                with _Transaction(self.engine) as sink:
                    counts = rows.write(sink)
                for table, n in counts.items():
                    self.totals[table] = self.totals.get(table, 0) + n
                done, elapsed = self.totals.get("cases", 0), time.perf_counter() - self.started_at
                if rows.cases:
                    self.echo(f"  cases {done:>9,}/{self.total:,}  {done / elapsed:>7,.0f} cases/s  "
                              f"events {self.totals.get('history_events', 0):>10,}  {elapsed:7.1f} s")
        except BaseException as error:  # handed to the generating thread
            self.error = error
            while self.queue.get() is not None:  # let the producer finish its put()
                pass

    def finish(self):
        self.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def generate_load(*, cases: int, units: int, seed: int = 20261121, batch: int = 10_000, echo=print,
                  now: datetime | None = None, analyze: bool = True) -> LoadReport:
    """Add ``cases`` cases over a new ``units``-unit tree; see the module docstring. Commits."""
    started = time.perf_counter()
    generator = _Generator(cases=cases, units=units, seed=seed, batch=max(1, batch), echo=echo, now=now)
    report = LoadReport()
    try:
        db.session.commit()
        generator.prepare()
        report.tag = generator.tag
        echo(f"Generating {cases:,} cases over {units:,} units as {generator.tag} "
             f"({db.engine.dialect.name}, batches of {batch:,}).")
        db.session.commit()  # the tree is written on another connection: read it in a new transaction
        with _Transaction(db.engine) as sink:
            generator.build_tree(sink)
        generator.create_users()
        db.session.commit()
        echo(f"  units {generator.counts['units']:,}, users {generator.counts['users']}")
        writer = _Writer(db.engine, echo, cases)
        writer.start()
        try:
            generator.run_cases(writer)
        finally:
            writer.finish()
        _reset_sequences(["units", "cases", "deadlines", "responsibilities", "measures", "attachments", "audits",
                          "audit_results"])
        report.counts = {**generator.counts, **writer.totals}
        report.history_from_seq, report.history_to_seq = generator.first_seq, generator.seq
        t = time.perf_counter()
        with db.engine.begin() as connection:  # the rows bypassed the session hook
            report.counts["case_day_stats"] = stats.rebuild(connection)
        echo(f"  statistics roll-up rebuilt: {report.counts['case_day_stats']:,} rows, {time.perf_counter() - t:.1f} s")
        if analyze:
            t = time.perf_counter()
            if db.engine.dialect.name == "postgresql":
                # What autovacuum would do a while later: statistics, and the visibility map that
                # lets index-only scans skip the table.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
            else:
                with db.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE")
            echo(f"  VACUUM/ANALYZE {time.perf_counter() - t:.1f} s")
    finally:
        db.engine.dispose()  # no pooled connection keeps the load's pragmas
    report.seconds = time.perf_counter() - started
    return report
