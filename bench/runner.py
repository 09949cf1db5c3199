"""The benchmark suite: one runner for both databases.

    .venv/bin/python -m bench --db sqlite|postgresql [--cases N] [--reuse] [--smoke]

1. Creates (or with ``--reuse`` keeps) the benchmark database — ``instance/bench.db`` or the
   PostgreSQL database ``tracker_bench`` on 127.0.0.1 — migrates it and, when it holds fewer
   generated cases than ``--cases``, adds them with ``tracker.loadgen``.
2. Measures repeated runs (median and p95 after warm-up) of the pages against the raw SQL that
   fetches the same rows through a bare DBAPI cursor, the dashboards, the unit PDF against
   WeasyPrint alone, a 100,000-row import, the history verification, and requests per second
   under concurrent load against gunicorn with two workers (with each worker's memory).
3. Prints a table (row, median, p95, limit, p95/limit, page/raw, PASS/FAIL) and writes it to
   ``bench/results/<db>-<timestamp>.json``.

``--smoke`` runs everything small and fast (5,000 cases, few repetitions) to prove the runner
works; tests/test_bench_smoke.py uses it. Rows whose feature is not built yet are skipped.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/tracker_bench"
BENCH_USER, BENCH_PASSWORD = "bench_sup", "bench-password-2026"
LOCAL = timedelta(hours=8)

# Targets (issue "Scale and speed"): milliseconds unless said otherwise.
PAGE_LIMIT_MS = 100
PAGE_RAW_RATIO = 2.0
DASHBOARD_LIMIT_MS = 300
PDF_LIMIT_MS = 1500
PDF_OVERHEAD_RATIO = 0.15
IMPORT_LIMIT_S = 60
HISTORY_LIMIT_S_PER_MILLION = 30


@dataclass
class Row:
    name: str
    samples_ms: list = field(default_factory=list)
    limit_ms: float | None = None
    raw_ms: list = field(default_factory=list)  # the same rows through a bare DBAPI cursor
    max_raw_ratio: float | None = None
    queries: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)
    verdict_override: str | None = None  # rows judged on something else than p95 (rates, ratios)

    @property
    def median(self):
        return statistics.median(self.samples_ms) if self.samples_ms else None

    @property
    def p95(self):
        return percentile(self.samples_ms, 95)

    @property
    def cpu_median(self):
        cpu = getattr(self.samples_ms, "cpu", None)
        return statistics.median(cpu) if cpu else None

    @property
    def raw_median(self):
        return statistics.median(self.raw_ms) if self.raw_ms else None

    @property
    def raw_ratio(self):
        return self.median / self.raw_median if self.raw_ms and self.raw_median else None

    @property
    def verdict(self):
        """The time limit (p95); the ratio to the raw SQL is judged apart (``raw_verdict``)."""
        if self.verdict_override:
            return self.verdict_override
        if self.limit_ms is None or not self.samples_ms:
            return "-"
        return "PASS" if self.p95 < self.limit_ms else "FAIL"

    @property
    def raw_verdict(self):
        if self.max_raw_ratio is None or self.raw_ratio is None:
            return None
        return "PASS" if self.raw_ratio <= self.max_raw_ratio else "FAIL"


def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


class Samples(list):
    """Wall-clock milliseconds, with the CPU milliseconds this process spent (``cpu``): on a
    busy machine the wall clock includes waiting for a core, the CPU time does not."""

    def __init__(self):
        super().__init__()
        self.cpu = []

    def run(self, fn):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        self.append((time.perf_counter() - started) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    samples = Samples()
    for _ in range(runs):
        samples.run(fn)
    return samples


def interleaved(page, raw, runs, warmup):
    """Time the page and its raw SQL alternately, so that both see the same machine load."""
    for _ in range(warmup):
        page()
        raw()
    page_ms, raw_ms = Samples(), Samples()
    for _ in range(runs):
        page_ms.run(page)
        raw_ms.run(raw)
    return page_ms, raw_ms


# --- the database ------------------------------------------------------------------------------


def database_url(args) -> str:
    if args.database_url:
        return args.database_url
    if args.db == "sqlite":
        name = "bench-smoke.db" if args.smoke else "bench.db"
        return f"sqlite:///{ROOT / 'instance' / name}"
    return os.environ.get("BENCH_POSTGRESQL_URL", DEFAULT_PG_URL + ("_smoke" if args.smoke else ""))


def prepare_database(url: str, *, reuse: bool, echo):
    """A fresh database, unless ``reuse`` and it exists."""
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    from tracker.core.database import normalize_url

    base, name = url.rsplit("/", 1)
    server = create_engine(normalize_url(base + "/postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and not reuse:
            echo(f"Dropping database {name}.")
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def make_app(url):
    from tracker import create_app

    return create_app({
        "DATABASE_URL": url, "SECRET_KEY": "bench-secret-key", "REDIS_URL": None, "SHOW_DEMO_ACCOUNTS": False,
    })


def ensure_load(app, *, cases, units, seed, batch, echo):
    """Migrate; add generated cases until the database holds ``cases`` of them."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from tracker.cases.models import Case
    from tracker.extensions import db
    from tracker.loadgen import CODE_PREFIX, generate_load
    from tracker.units.models import Unit

    with app.app_context():
        started = time.perf_counter()
        upgrade()
        migrate_s = time.perf_counter() - started
        have = db.session.scalar(
            select(func.count()).select_from(Case).join(Unit, Unit.id == Case.unit_id)
            .where(Unit.code.like(f"{CODE_PREFIX}%"))
        )
        db.session.commit()
        info = {"migrate_s": round(migrate_s, 1), "cases_before": have}
        if have < cases:
            report = generate_load(cases=cases - have, units=units, seed=seed, batch=batch, echo=echo)
            info["generation"] = {"seconds": round(report.seconds, 1), "cases_per_s": round(report.rate()),
                                  "counts": report.counts, "tag": report.tag}
        return info


def ensure_bench_user(app):
    from sqlalchemy import select

    from tracker.accounts import operations as account_ops
    from tracker.accounts.models import User
    from tracker.accounts.states import Role
    from tracker.extensions import db

    with app.app_context():
        if db.session.scalar(select(User).where(User.username == BENCH_USER)) is None:
            account_ops.create_user(actor=None, username=BENCH_USER, display_name="基准测试督查员",
                                    password=BENCH_PASSWORD, role=Role.supervisor)
            db.session.commit()


@dataclass
class Targets:
    county_code: str
    county_path: str
    county_cases: int
    closed_case: str
    open_case: str
    rare_term: str
    report_unit: str | None = None
    report_from: date | None = None
    report_to: date | None = None
    report_cases: int | None = None


def pick_targets(app, *, report_cases=200) -> Targets:
    """A county of median size, a closed and an open case in it, a rare search term, and a
    unit and period with about ``report_cases`` cases for the PDF."""
    from sqlalchemy import func, select

    from tracker.cases.models import Case
    from tracker.cases.states import CaseState
    from tracker.extensions import db
    from tracker.loadgen import CODE_PREFIX
    from tracker.units.models import Unit
    from tracker.units.states import UnitLevel

    with app.app_context():
        counties = db.session.scalars(
            select(Unit).where(Unit.level == UnitLevel.county, Unit.code.like(f"{CODE_PREFIX}%")).order_by(Unit.code)
        ).all()
        paths = dict(db.session.execute(select(Unit.id, Unit.path)).all())
        per_unit = db.session.execute(select(Case.unit_id, func.count()).group_by(Case.unit_id)).all()
        sized = []
        for county in counties:
            n = sum(count for unit_id, count in per_unit if paths[unit_id].startswith(county.path))
            sized.append((n, county.code, county.path))
        sized.sort()
        n, code, path = sized[len(sized) // 2]
        in_county = select(Case.number).join(Unit, Unit.id == Case.unit_id).where(Unit.path.like(f"{path}%"))
        closed = db.session.scalar(in_county.where(Case.state == CaseState.closed, Case.determined_at.is_not(None))
                                   .order_by(Case.received_at.desc()).limit(1))
        open_ = db.session.scalar(in_county.where(Case.state == CaseState.rectifying)
                                  .order_by(Case.received_at.desc()).limit(1))
        targets = Targets(code, path, n, closed, open_ or closed, rare_term())
        # The PDF: the busiest station of the county, over the period of its last ~200 cases.
        station = db.session.execute(
            select(Unit.code, Unit.path, func.count()).select_from(Case).join(Unit, Unit.id == Case.unit_id)
            .where(Unit.path.like(f"{path}%"), Unit.level == UnitLevel.station)
            .group_by(Unit.code, Unit.path).order_by(func.count().desc()).limit(1)
        ).first()
        if station is not None:
            s_code, s_path = station[0], station[1]
            s_unit = db.session.scalar(select(Unit).where(Unit.code == s_code))
            received = db.session.scalars(
                select(Case.received_at).join(Unit, Unit.id == Case.unit_id).where(Unit.path.like(f"{s_unit.path}%"))
                .order_by(Case.received_at.desc()).limit(report_cases)
            ).all()
            if received:
                targets.report_unit = s_code
                targets.report_from = (received[-1] + LOCAL).date()
                targets.report_to = (received[0] + LOCAL).date()
                targets.report_cases = len(received)
        db.session.rollback()
        return targets


def rare_term():
    """Four characters found in exactly one demo scenario: a selective text search."""
    from tracker.seed.data_cases import CASE_SCENARIOS

    texts = [f"{s['summary']} {s['details']}" for s in CASE_SCENARIOS]
    for scenario in CASE_SCENARIOS:
        summary = scenario["summary"]
        for i in range(len(summary) - 3):
            term = summary[i:i + 4]
            if re.fullmatch(r"[\u4e00-\u9fff]{4}", term) and sum(term in t for t in texts) == 1:
                return term
    return "电表"


# --- in-process clients --------------------------------------------------------------------------


def csrf_token(html):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


def web_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code == 302, f"bench login failed: {response.status_code}"
    return client


def api_headers(app):
    client = app.test_client()
    response = client.post("/api/v1/tokens", json={"username": BENCH_USER, "password": BENCH_PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def count_queries(app, fn):
    """Statements one call of ``fn`` sends to the database."""
    from sqlalchemy import event

    from tracker.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


# --- raw SQL ---------------------------------------------------------------------------------------


class Raw:
    """The same rows through a bare DBAPI cursor: SQL written out as the ORM emits it."""

    def __init__(self, app):
        from tracker.cases.models import Case
        from tracker.extensions import db

        self.app = app
        with app.app_context():
            self.dialect = db.engine.dialect.name
            self.connection = db.engine.raw_connection()
        self.case_columns = ", ".join(f"cases.{c.name}" for c in Case.__table__.columns)
        self.unit_columns = ("units.id, units.code, units.name, units.level, units.parent_id, units.path, "
                             "units.active, units.created_at")

    def close(self):
        self.connection.close()

    def time_value(self, moment: datetime):
        moment = moment.astimezone(timezone.utc)
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if self.dialect == "sqlite" else moment

    def run(self, sql, params=None):
        if self.dialect == "postgresql":
            sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
        cursor = self.connection.cursor()
        cursor.execute(sql, params or {})
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def end(self):
        if self.dialect == "postgresql":
            self.connection.rollback()

    def ilike(self, column, term):
        if term.lower() == term.upper():  # no letter case: LIKE, as tracker.cases.queries does
            return f"{column} LIKE :q ESCAPE '\\'"
        if self.dialect == "postgresql":
            return f"{column} ILIKE :q ESCAPE '\\'"
        return f"lower({column}) LIKE lower(:q) ESCAPE '\\'"

    def few_matches(self, term):
        """tracker.cases.search: a term of three characters or more with at most FTS_DRIVE_LIMIT
        matches is read from the trigram index."""
        from tracker.cases.search import FTS_DRIVE_LIMIT, TRIGRAM, fts_phrase

        if len(term) < TRIGRAM:
            return False
        (found,), = self.run(f"SELECT count(*) FROM (SELECT rowid FROM cases_fts WHERE cases_fts MATCH :q "
                             f"LIMIT {FTS_DRIVE_LIMIT + 1})", {"q": fts_phrase(term)})
        return found <= FTS_DRIVE_LIMIT

    def in_list(self, name, values):
        marks = ", ".join(f":{name}{i}" for i in range(len(values)))
        return f"({marks})" if values else "(NULL)", {f"{name}{i}": v for i, v in enumerate(values)}

    def case_list(self, filters: dict, *, cursor=None, limit=50, detail=False):
        """The list page's statements: the page of cases with their units, then their clocks
        (and, for the API's whole case objects, type, merge target and the case's collections)."""
        where, params = [], {}
        if "unit_path" in filters:
            where.append("units.path LIKE :prefix")
            params["prefix"] = filters["unit_path"] + "%"
        for key in ("state", "channel", "severity"):
            if filters.get(key):
                where.append(f"cases.{key} = :{key}")
                params[key] = filters[key]
        if filters.get("overdue"):
            where.append("EXISTS (SELECT * FROM deadlines WHERE deadlines.case_id = cases.id AND deadlines.met_at IS "
                         "NULL AND deadlines.cancelled_at IS NULL AND deadlines.paused_at IS NULL AND "
                         "deadlines.due_at < :now)")
            params["now"] = self.time_value(datetime.now(timezone.utc))
        if filters.get("q") and self.dialect == "sqlite" and self.few_matches(filters["q"]):
            # The trigram index, as tracker.cases.search uses it on SQLite.
            where.append("cases.id IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH :q)")
            from tracker.cases.search import fts_phrase

            params["q"] = fts_phrase(filters["q"])
        elif filters.get("q"):
            where.append("(" + " OR ".join(self.ilike(f"cases.{c}", filters["q"]) for c in
                                           ("summary", "details", "number", "external_ref")) + ")")
            params["q"] = f"%{filters['q']}%"
        if cursor is not None:
            where.append("(cases.received_at, cases.id) < (:c_at, :c_id)")
            params["c_at"], params["c_id"] = self.time_value(cursor[0]), cursor[1]
        joins = "JOIN units ON units.id = cases.unit_id"
        columns = f"{self.case_columns}, {self.unit_columns}"
        if detail:
            joins += (" LEFT OUTER JOIN violation_types ON violation_types.id = cases.violation_type_id"
                      " LEFT OUTER JOIN cases AS cases_1 ON cases_1.id = cases.merged_into_id")
            columns += ", violation_types.*, cases_1.*"
        sql = (f"SELECT {columns} FROM cases {joins} {'WHERE ' + ' AND '.join(where) if where else ''} "
               f"ORDER BY cases.received_at DESC, cases.id DESC LIMIT {limit + 1}")
        rows = self.run(sql, params)
        ids = [r[0] for r in rows[:limit]]
        self.children(ids, detail=detail)
        self.end()
        return rows[:limit]

    def children(self, ids, *, detail):
        marks, params = self.in_list("id", ids)
        self.run(f"SELECT * FROM deadlines WHERE deadlines.case_id IN {marks} ORDER BY deadlines.id", params)
        if detail:
            self.run("SELECT responsibilities.*, units.* FROM responsibilities JOIN units ON units.id = "
                     f"responsibilities.unit_id WHERE responsibilities.case_id IN {marks} ORDER BY responsibilities.id",
                     params)
            self.run(f"SELECT * FROM measures WHERE measures.case_id IN {marks} ORDER BY measures.id", params)
            self.run(f"SELECT * FROM warning_interviews WHERE warning_interviews.case_id IN {marks} "
                     "ORDER BY warning_interviews.id", params)

    def case_page(self, number):
        """The case with its unit, type, collections, history and evidence."""
        rows = self.run(
            f"SELECT {self.case_columns}, {self.unit_columns}, violation_types.*, cases_1.* FROM cases "
            "JOIN units ON units.id = cases.unit_id "
            "LEFT OUTER JOIN violation_types ON violation_types.id = cases.violation_type_id "
            "LEFT OUTER JOIN cases AS cases_1 ON cases_1.id = cases.merged_into_id WHERE cases.number = :number",
            {"number": number})
        case_id = rows[0][0]
        self.children([case_id], detail=True)
        self.run("SELECT * FROM history_events WHERE history_events.case_id = :id ORDER BY history_events.seq",
                 {"id": case_id})
        self.run("SELECT * FROM attachments WHERE attachments.case_id = :id ORDER BY attachments.uploaded_at, "
                 "attachments.id", {"id": case_id})
        self.end()
        return rows


# --- the rows ------------------------------------------------------------------------------------


def list_scenarios(targets: Targets):
    county = {"unit": targets.county_code}
    path = {"unit_path": targets.county_path}
    return [
        ("list: county, 95598", {**county, "channel": "hotline_95598"}, {**path, "channel": "hotline_95598"}),
        ("list: county, grave", {**county, "severity": "grave"}, {**path, "severity": "grave"}),
        ("list: county, rectifying", {**county, "state": "rectifying"}, {**path, "state": "rectifying"}),
        ("list: county, overdue", {**county, "overdue": "y"}, {**path, "overdue": True}),
        (f"list: county, text '{targets.rare_term}'", {**county, "q": targets.rare_term},
         {**path, "q": targets.rare_term}),
        ("list: whole organisation", {}, {}),
    ]


def numbers_in(html):
    return re.findall(r'href="/cases/(JD-\d{4}-\d+)"', html)


def list_rows(app, raw: Raw, targets: Targets, *, runs, warmup, echo):
    from urllib.parse import urlencode

    client = web_client(app)
    rows = []
    for name, query, filters in list_scenarios(targets):
        url = "/cases" + (f"?{urlencode(query)}" if query else "")
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        shown = numbers_in(page.get_data(as_text=True))
        fetched = [r[1] for r in raw.case_list(filters)]
        if shown != fetched:
            raise AssertionError(f"{name}: the raw SQL does not fetch the page's rows ({shown[:3]} vs {fetched[:3]})")
        page_ms, raw_ms = interleaved(lambda: client.get(url), lambda: raw.case_list(filters), runs, warmup)
        row = Row(name, page_ms, PAGE_LIMIT_MS, raw_ms, PAGE_RAW_RATIO, count_queries(app, lambda: client.get(url)),
                  note=f"{len(shown)} rows", extra={"url": url})
        rows.append(row)
        echo(line(row))
        if name == "list: county, 95598":
            rows.append(next_page_row(app, client, raw, url, filters, runs=runs, warmup=warmup, echo=echo))
    return rows


def next_page_row(app, client, raw, url, filters, *, runs, warmup, echo):
    """Page 2 (keyset cursor): as fast as page 1."""
    from tracker.core.paging import decode_cursor

    html = client.get(url).get_data(as_text=True)
    match = re.search(r'cursor=([A-Za-z0-9_-]+)', html)
    if not match:
        return Row("list: county, 95598, page 2", note="no second page")
    cursor = match.group(1)
    values = decode_cursor(cursor, 2)
    key = (datetime.fromisoformat(values[0]), int(values[1]))
    page_url = f"{url}&cursor={cursor}"
    shown = numbers_in(client.get(page_url).get_data(as_text=True))
    fetched = [r[1] for r in raw.case_list(filters, cursor=key)]
    assert shown == fetched, "page 2: raw SQL and page differ"
    page_ms, raw_ms = interleaved(lambda: client.get(page_url), lambda: raw.case_list(filters, cursor=key), runs,
                                  warmup)
    row = Row("list: county, 95598, page 2", page_ms, PAGE_LIMIT_MS, raw_ms, PAGE_RAW_RATIO,
              count_queries(app, lambda: client.get(page_url)), note=f"{len(shown)} rows")
    echo(line(row))
    return row


def api_rows(app, raw: Raw, targets: Targets, *, runs, warmup, echo):
    client = app.test_client()
    headers = api_headers(app)
    rows = []
    for name, query, filters in list_scenarios(targets)[:1] + list_scenarios(targets)[3:4]:
        query = {**query, "limit": 50}
        if query.get("overdue"):
            query["overdue"] = "true"
        url = "/api/v1/cases?" + "&".join(f"{k}={v}" for k, v in query.items())
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        shown = [item["number"] for item in response.get_json()["items"]]
        fetched = [r[1] for r in raw.case_list(filters, detail=True)]
        assert shown == fetched, f"API {name}: raw SQL and API differ"
        page_ms, raw_ms = interleaved(lambda: client.get(url, headers=headers),
                                      lambda: raw.case_list(filters, detail=True), runs, warmup)
        row = Row(f"API {name}", page_ms, PAGE_LIMIT_MS, raw_ms, PAGE_RAW_RATIO,
                  count_queries(app, lambda: client.get(url, headers=headers)), note=f"{len(shown)} items")
        rows.append(row)
        echo(line(row))
    return rows


def case_rows(app, raw: Raw, targets: Targets, *, runs, warmup, echo):
    client = web_client(app)
    headers = api_headers(app)
    rows = []
    for label, number in (("closed", targets.closed_case), ("open", targets.open_case)):
        for kind, fetch in (("case page", lambda n=number: client.get(f"/cases/{n}")),
                            ("API case", lambda n=number: client.get(f"/api/v1/cases/{n}", headers=headers))):
            response = fetch()
            assert response.status_code == 200, (kind, number, response.status_code)
            page_ms, raw_ms = interleaved(fetch, lambda n=number: raw.case_page(n), runs, warmup)
            row = Row(f"{kind}: {label} ({number})", page_ms, PAGE_LIMIT_MS, raw_ms, PAGE_RAW_RATIO,
                      count_queries(app, fetch))
            rows.append(row)
            echo(line(row))
    return rows


def dashboard_rows(app, targets: Targets, *, runs, warmup, echo):
    """The organisation and unit dashboards, if the reports module serves them."""
    endpoints = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    wanted = [
        ("dashboard: organisation", ("reports.dashboard", "reports.index", "reports.organisation_dashboard"), {}),
        ("dashboard: county", ("reports.unit_dashboard", "reports.unit"), {"code": targets.county_code}),
    ]
    rows = []
    client = web_client(app)
    for name, candidates, values in wanted:
        endpoint = next((e for e in candidates if e in endpoints), None)
        if endpoint is None:
            rows.append(Row(name, note="not built yet (no reports dashboard endpoint)", verdict_override="SKIP"))
            echo(line(rows[-1]))
            continue
        with app.test_request_context():
            from flask import url_for

            arguments = {k: v for k, v in values.items() if k in endpoints[endpoint].arguments}
            url = url_for(endpoint, **arguments, **({"unit": values["code"]} if "code" in values and
                                                    "code" not in endpoints[endpoint].arguments else {}))
        first, responses = Samples(), []
        first.run(lambda u=url: responses.append(client.get(u)))
        if responses[0].status_code != 200:
            rows.append(Row(name, note=f"{url} answered {responses[0].status_code}", verdict_override="FAIL"))
            echo(line(rows[-1]))
            continue
        if first[0] > 10 * DASHBOARD_LIMIT_MS:
            # Far beyond the target: two requests say enough (thirty could take an hour).
            first.run(lambda u=url: client.get(u))
            row = Row(name, first, DASHBOARD_LIMIT_MS, note="far beyond the target: 2 runs only", extra={"url": url})
        else:
            row = Row(name, timed(lambda u=url: client.get(u), runs, warmup), DASHBOARD_LIMIT_MS,
                      queries=count_queries(app, lambda u=url: client.get(u)), extra={"url": url})
        rows.append(row)
        echo(line(row))
    return rows


def pdf_row(app, targets: Targets, *, runs, warmup, echo):
    """The unit report with ~200 cases: whole (queries, HTML, WeasyPrint in its child process)
    against WeasyPrint alone on the same HTML in this process."""
    try:
        from tracker.core.pdf import render_pdf
        from tracker.reports.unit_report import render_unit_report, unit_report_html
    except ImportError:
        return [Row("unit PDF report", note="not built yet", verdict_override="SKIP")]
    if targets.report_unit is None:
        return [Row("unit PDF report", note="no station with cases", verdict_override="SKIP")]
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.extensions import db
    from tracker.units.models import Unit

    with app.test_request_context():
        viewer = db.session.scalar(select(User).where(User.username == BENCH_USER))
        unit = db.session.scalar(select(Unit).where(Unit.code == targets.report_unit))
        args = (unit, targets.report_from, targets.report_to)
        html = unit_report_html(*args, locale="zh_Hans_CN", viewer=viewer)
        # Alternately, so that both see the same machine load.
        total, weasy = interleaved(lambda: render_unit_report(*args, locale="zh_Hans_CN", viewer=viewer),
                                   weasyprint_alone(html, render_pdf), runs, max(warmup, 1))
        html_ms = timed(lambda: unit_report_html(*args, locale="zh_Hans_CN", viewer=viewer), runs, warmup)
        db.session.rollback()
    overhead = statistics.median(total) - statistics.median(weasy)
    ratio = overhead / statistics.median(weasy)
    ok = percentile(total, 95) < PDF_LIMIT_MS and ratio <= PDF_OVERHEAD_RATIO
    row = Row(f"unit PDF ({targets.report_cases} cases, {targets.report_unit})", total, PDF_LIMIT_MS,
              note=f"WeasyPrint alone {statistics.median(weasy):.0f} ms; queries+HTML "
                   f"{statistics.median(html_ms):.0f} ms; overhead {ratio:.0%} of WeasyPrint (limit 15%)",
              extra={"weasyprint_ms": weasy, "html_ms": html_ms, "overhead_ratio": round(ratio, 3),
                     "period": [str(targets.report_from), str(targets.report_to)]},
              verdict_override="PASS" if ok else "FAIL")
    echo(line(row))
    return [row]


def weasyprint_alone(html, render_pdf):
    """WeasyPrint on the final HTML with the fonts loaded once, as the report's render children
    have them (they fork from a server that loaded them); ``render_pdf`` reloads them per call."""
    try:
        from tracker.core.pdf import _load_fonts, _write_pdf, cjk_font_path, default_allowed_dirs
    except ImportError:
        return lambda: render_pdf(html)
    allowed = default_allowed_dirs()
    fonts = _load_fonts(cjk_font_path(), allowed)
    return lambda: _write_pdf(html, None, allowed, fonts)


def import_row(app, *, rows_count, echo):
    """Import ``rows_count`` 95598 work orders through the importer's confirm path, then undo."""
    try:
        from tracker.reports import importer
    except ImportError:
        row = Row(f"import {rows_count:,} work orders", note="not built yet (tracker/reports/importer.py)",
                  verdict_override="SKIP")
        echo(line(row))
        return [row]
    from bench.importing import time_import

    row = time_import(app, importer, rows_count=rows_count, limit_s=IMPORT_LIMIT_S, bench_user=BENCH_USER)
    echo(line(row))
    return [row]


def history_row(app, *, echo):
    """Verify the whole chain once; the target is per million events."""
    from tracker.core.history import verify_chain
    from tracker.extensions import db

    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        result = verify_chain()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.rollback()
    per_million = seconds / max(result.checked, 1) * 1_000_000
    ok = result.ok and per_million < HISTORY_LIMIT_S_PER_MILLION
    row = Row(f"verify history ({result.checked:,} events)", [seconds * 1000],
              note=f"{per_million:.1f} s per 1M events (limit 30 s); {result.checked / seconds:,.0f} events/s; "
                   f"CPU {cpu:.1f} s; chain {'intact' if result.ok else 'BROKEN'}",
              extra={"events": result.checked, "s_per_million": round(per_million, 2), "cpu_s": round(cpu, 1),
                     "ok": result.ok},
              verdict_override="PASS" if ok else "FAIL")
    echo(line(row))
    return [row]


def concurrency_rows(url, targets: Targets, *, duration, threads, echo):
    from bench.load import run_gunicorn_load

    results = run_gunicorn_load(
        database_url=url, user=BENCH_USER, password=BENCH_PASSWORD, duration=duration, threads=threads,
        paths={
            "list page": "/cases?unit=" + targets.county_code + "&channel=hotline_95598",
            "case page": "/cases/" + targets.closed_case,
        },
    )
    rows = []
    for name, result in results["paths"].items():
        row = Row(f"{name} under load (gunicorn -w 2, {threads} clients)", result["latencies_ms"], PAGE_LIMIT_MS,
                  note=f"{result['rps']:.1f} req/s, {result['errors']} errors",
                  extra={"rps": result["rps"], "errors": result["errors"], "requests": result["requests"]})
        rows.append(row)
        echo(line(row))
    memory = results["workers"]
    rows.append(Row("memory per worker", note=", ".join(f"RSS {w['rss_mb']:.0f} MB (peak {w['hwm_mb']:.0f} MB)"
                                                        for w in memory),
                    extra={"workers": memory}, verdict_override="-"))
    echo(line(rows[-1]))
    return rows


# --- output --------------------------------------------------------------------------------------


def fmt_ms(value):
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.1f}"


def line(row: Row):
    ratio = f"{row.p95 / row.limit_ms:.2f}" if row.limit_ms and row.samples_ms else "-"
    raw = "-"
    if row.raw_ms:
        mark = "" if row.raw_verdict == "PASS" else "!"
        raw = f"{fmt_ms(row.raw_median)} ({row.raw_ratio:.1f}x{mark})"
    queries = str(row.queries) if row.queries is not None else "-"
    limit = fmt_ms(row.limit_ms) if row.limit_ms else "-"
    return (f"{row.name[:48]:<48} {fmt_ms(row.median):>9} {fmt_ms(row.p95):>9} {fmt_ms(row.cpu_median):>7} "
            f"{limit:>7} {ratio:>6} {raw:>16} {queries:>3}  {row.verdict:<5} {row.note}")


HEADER = (f"{'row':<48} {'median':>9} {'p95':>9} {'cpu':>7} {'limit':>7} {'p95/l':>6} {'raw SQL (page/raw)':>16} "
          f"{'q':>3}  {'p95':<5} note\n(ms; cpu: median CPU time of this process; raw SQL: median of the same rows "
          f"through a bare DBAPI cursor, '!' above {PAGE_RAW_RATIO:g}x; q: SQL statements per request)")


def machine_info(url):
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 1024 / 1024, 1)
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.+)", cpu).group(1)
    except (OSError, AttributeError):
        pass
    disk = shutil.disk_usage(ROOT)
    info["disk_free_gb"] = round(disk.free / 1e9)
    if url.startswith("sqlite"):
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
        path = Path(url.split("sqlite:///", 1)[1])
        if path.exists():
            info["database_gb"] = round(path.stat().st_size / 1e9, 2)
    return info


def write_results(args, url, info, rows, results_dir):
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = results_dir / f"{args.db}-{stamp}.json"
    info["loadavg_end"] = os.getloadavg()
    payload = {
        "db": args.db, "database": re.sub(r"//[^@/]*@", "//", url), "cases": args.cases, "smoke": args.smoke,
        "runs": args.runs, "warmup": args.warmup, "machine": info,
        "rows": [
            {**{f.name: getattr(r, f.name) for f in fields(r) if f.name not in ("samples_ms", "raw_ms")},
             "median_ms": r.median, "p95_ms": r.p95, "cpu_median_ms": r.cpu_median, "raw_median_ms": r.raw_median,
             "raw_ratio": r.raw_ratio, "raw_verdict": r.raw_verdict,
             "verdict": r.verdict, "samples_ms": [round(s, 2) for s in r.samples_ms],
             "raw_ms": [round(s, 2) for s in r.raw_ms],
             "cpu_ms": [round(s, 2) for s in getattr(r.samples_ms, "cpu", [])]}
            for r in rows
        ],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    return path


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--cases", type=int, default=None, help="generated cases (default 1,000,000; smoke 5,000)")
    parser.add_argument("--units", type=int, default=None, help="units of the generated tree (default 2,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the benchmark database if it exists")
    parser.add_argument("--smoke", action="store_true", help="small and fast: proves the runner works")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per row (default 30; smoke 3)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed runs first (default 3; smoke 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load per page (default 20)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients against gunicorn")
    parser.add_argument("--import-rows", type=int, default=None, help="rows of the import (default 100,000)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--database-url", default=None, help="another database than the default benchmark one")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--skip", action="append", default=[],
                        help="skip a group: list, api, case, dashboard, pdf, import, history, load")
    args = parser.parse_args(argv)
    small = args.smoke
    args.cases = args.cases if args.cases is not None else (5_000 if small else 1_000_000)
    args.units = args.units if args.units is not None else (200 if small else 2_000)
    args.runs = args.runs if args.runs is not None else (3 if small else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if small else 3)
    args.duration = args.duration if args.duration is not None else (1 if small else 20)
    args.import_rows = args.import_rows if args.import_rows is not None else (200 if small else 100_000)
    return args


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    echo = print
    url = database_url(args)
    info = machine_info(url)
    echo(f"Benchmark on {args.db}: {re.sub(r'//[^@/]*@', '//', url)}  "
         f"({info['nproc']} cores, {info.get('memory_gb')} GB, load {info['loadavg_start'][0]:.1f})")
    prepare_database(url, reuse=args.reuse, echo=echo)
    app = make_app(url)
    info["load"] = ensure_load(app, cases=args.cases, units=args.units, seed=args.seed, batch=10_000, echo=echo)
    ensure_bench_user(app)
    targets = pick_targets(app, report_cases=50 if args.smoke else 200)
    info["targets"] = {k: str(v) for k, v in asdict(targets).items()}
    info.update(database_versions(app))
    echo(f"County {targets.county_code} ({targets.county_cases:,} cases); cases {targets.closed_case} (closed), "
         f"{targets.open_case} (open); search '{targets.rare_term}'")
    freeze_after_warm_up(app, targets)
    echo("")
    echo(HEADER)
    rows = []
    raw = Raw(app)
    skip = set(args.skip)
    try:
        common = {"runs": args.runs, "warmup": args.warmup, "echo": echo}
        if "list" not in skip:
            rows += list_rows(app, raw, targets, **common)
        if "api" not in skip:
            rows += api_rows(app, raw, targets, **common)
        if "case" not in skip:
            rows += case_rows(app, raw, targets, **common)
    finally:
        raw.close()
    if "dashboard" not in skip:
        rows += dashboard_rows(app, targets, runs=max(2, args.runs // 3), warmup=1, echo=echo)
    if "pdf" not in skip:
        # A report takes seconds: fewer runs (one in a smoke run).
        rows += pdf_row(app, targets, runs=1 if args.smoke else max(3, args.runs // 6),
                        warmup=0 if args.smoke else 1, echo=echo)
    if "import" not in skip:
        rows += import_row(app, rows_count=args.import_rows, echo=echo)
    if "history" not in skip:
        rows += history_row(app, echo=echo)
    if "load" not in skip:
        with app.app_context():
            from tracker.extensions import db

            db.engine.dispose()  # SQLite: nothing of ours holds the file while gunicorn works on it
        rows += concurrency_rows(url, targets, duration=args.duration, threads=args.threads, echo=echo)
    path = write_results(args, url, info, rows, Path(args.results_dir))
    echo("")
    echo(f"Results: {path}")
    failed = [r.name for r in rows if r.verdict == "FAIL"]
    echo(f"Time limits: {len(failed)} of {sum(r.verdict in ('PASS', 'FAIL') for r in rows)} missed"
         + (": " + "; ".join(failed) if failed else "."))
    over = [f"{r.name} ({r.raw_ratio:.1f}x)" for r in rows if r.raw_verdict == "FAIL"]
    echo(f"At most {PAGE_RAW_RATIO:g}x the raw SQL: {len(over)} of {sum(r.raw_verdict is not None for r in rows)} "
         "missed" + (": " + "; ".join(over) if over else "."))
    return 0


def freeze_after_warm_up(app, targets):
    """Serve each kind of page once, then move everything alive to the garbage collector's
    permanent generation, as wsgi.py does in every gunicorn worker: otherwise a full collection
    scans it every dozen requests (a 100 ms pause on this machine)."""
    import gc

    client = web_client(app)
    for url in (f"/cases?unit={targets.county_code}", f"/cases/{targets.closed_case}"):
        client.get(url)
    app.test_client().get(f"/api/v1/cases?unit={targets.county_code}", headers=api_headers(app))
    gc.collect()
    gc.freeze()


def database_versions(app):
    from sqlalchemy import text

    from tracker.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            version = db.session.scalar(text("SHOW server_version"))
            settings = {name: db.session.scalar(text(f"SHOW {name}")) for name in
                        ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost")}
            size = db.session.scalar(text("SELECT pg_database_size(current_database())"))
            db.session.rollback()
            return {"postgresql": version, "postgresql_settings": settings, "database_gb": round(size / 1e9, 2)}
        return {}

