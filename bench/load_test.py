"""Load test: concurrent virtual users against gunicorn, then a count of what reached the database.

    .venv/bin/python -m bench.load_test --users 50 --seconds 300 --db postgresql

1. Creates a fresh database — the PostgreSQL database ``tracker_load`` on 127.0.0.1 (dropped
   first if it exists) or ``instance/load.db`` — migrates it, seeds the demo organisation and
   demo cases (``tracker.seed.demo``) and publishes two bulletins.
2. Starts ``gunicorn -w 2 -b 127.0.0.1:<free port> wsgi:app`` on it (TRACKER_DATABASE_URL,
   TRACKER_SECRET_KEY; CSRF on, as in production).
3. Runs ``--users`` virtual users for ``--seconds`` seconds, each in its own thread with
   ``http.client``, loopback only, with a short random pause between steps (``--think``):
   - supervisors (50 %) file complaints through the API and carry their cases on: start the
     inquiry, record it, request an explanation and, once the unit head has answered, determine;
     between writes they read the case list, a case page and the inbox in the web UI;
   - unit heads (30 %) look for their units' cases waiting for an explanation or an acceptance
     (API lists) and answer them (``submit_explanation``, ``accept_determination``); they read
     their inbox and case pages;
   - external supervisors (20 %) read the published bulletins and the portal.
   Writes go through the JSON API with bearer tokens; reads are web pages with a logged-in
   session (each user signs in through the login form with its CSRF token). Two users acting on
   the same case at once get 409 (``version_conflict``/``invalid_transition``): expected, counted,
   not an error.
4. Stops gunicorn and checks, in the database:
   - errors: every 5xx answer and every transport error (refused, reset, timed out) — must be 0;
   - lost writes: every 201/200 a client got for a write is in the database — the cases it
     created (by their work-order numbers), one history event per successful action and kind
     of action, and each touched case's version = 1 + its successful actions — must be 0;
   - the history chain verifies.
5. Prints p50/p95 per page and requests per second; writes everything to
   ``bench/results/load-<db>-<timestamp>.json`` (gitignored). Exits 1 when errors or lost
   writes are not 0.

``tests/test_load_short.py`` runs the same scenario for 15 s with 10 users on the database
under test (``run_load``).
"""

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/tracker_load"
PASSWORD = "load-demo-2026"
SECRET_KEY = "load-test-secret-key-not-for-production"
# The short form in the test suite hashes passwords cheaply (as the suite does), so that signing
# in ten users does not take longer than the load itself; the full form keeps argon2's defaults.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

# Supervisors and the county whose units they may file complaints for (None: the whole city).
SUPERVISORS = {"sup_wang": None, "sup_liu": None, "sup_chen": "JZ-QH", "sup_zhao": "JZ-AL"}
# Heads of the three counties: every complaint of the load goes to one of these or a unit below.
HEADS = {"head_qh": "JZ-QH", "head_tl": "JZ-TL", "head_al": "JZ-AL"}
EXTERNALS = ("ext_xu", "ext_lin")
WRITE_ACTIONS = (
    "start_inquiry",
    "record_inquiry",
    "request_explanation",
    "submit_explanation",
    "determine",
    "accept_determination",
)
REF_PREFIX = "LOAD-"


def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database ------------------------------------------------------------------------------


def create_database(url, echo):
    """A new, empty database at ``url`` (PostgreSQL: dropped first if it exists)."""
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    from tracker.core.database import normalize_url

    base, name = url.rsplit("/", 1)
    server = create_engine(normalize_url(base + "/postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        echo(f"Creating database {name}.")
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def make_app(url, argon2=None):
    from tracker import create_app

    config = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "REDIS_URL": None, "SHOW_DEMO_ACCOUNTS": False}
    if argon2:
        config["ARGON2_PARAMS"] = argon2
    return create_app(config)


def prepare(url, *, seed_cases, echo, argon2=None):
    """Migrate and seed an empty database; return what the users need (bulletin ids, a
    violation type code)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.cases.models import ViolationType
    from tracker.extensions import db
    from tracker.reports import bulletins as bulletin_ops
    from tracker.seed.demo import seed_demo
    from tracker.units.models import Unit

    app = make_app(url, argon2)
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        summary = seed_demo(password=PASSWORD, cases=seed_cases, audits=4)
        sup = db.session.scalar(select(User).where(User.username == "sup_wang"))
        today = datetime.now(timezone(timedelta(hours=8))).date()
        bulletins = []
        for title, days in (("服务质量月度通报", 30), ("行风建设季度通报", 90)):
            bulletin = bulletin_ops.create_bulletin(
                actor=sup, title=title, period_from=today - timedelta(days=days), period_to=today
            )
            bulletin_ops.publish_bulletin(bulletin, actor=sup)
            bulletins.append(bulletin.id)
        violation_type = db.session.scalar(select(ViolationType.code).order_by(ViolationType.code))
        units = {}
        for county in HEADS.values():
            path = db.session.scalar(select(Unit.path).where(Unit.code == county))
            units[county] = db.session.scalars(
                select(Unit.code).where(Unit.path.like(f"{path}%"), Unit.active.is_(True)).order_by(Unit.code)
            ).all()
        db.session.commit()
        echo(
            f"Seeded {summary.cases_created} demo cases, {len(summary.users)} users, 2 bulletins "
            f"in {time.perf_counter() - started:.1f} s."
        )
        db.session.remove()
        db.engine.dispose()
    return {"bulletins": bulletins, "violation_type": violation_type, "units": units}


# --- gunicorn ----------------------------------------------------------------------------------


class Gunicorn:
    """``gunicorn -w 2 -b 127.0.0.1:<port> wsgi:app`` on the database, stopped by ``stop``."""

    def __init__(self, url, *, workers=2, log_dir, argon2=None):
        self.port = free_port()
        self.log = Path(log_dir) / f"gunicorn-{self.port}.log"
        env = {
            **os.environ,
            "TRACKER_DATABASE_URL": url,
            "TRACKER_SECRET_KEY": SECRET_KEY,
            "TRACKER_SHOW_DEMO_ACCOUNTS": "false",
            "PYTHONPATH": str(ROOT),
        }
        if argon2:
            env["TRACKER_ARGON2_PARAMS"] = json.dumps(argon2)
        env.pop("REDIS_URL", None)
        env.pop("TRACKER_REDIS_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "--error-logfile",
                str(self.log),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                if request(self.port, "GET", "/login", timeout=5).status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start: {self.log_tail()}")
            time.sleep(0.3)

    def log_tail(self, chars=4000):
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- HTTP ----------------------------------------------------------------------------------------


class Answer:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def json(self):
        return json.loads(self.body)


def request(port, method, path, *, headers=None, body=None, timeout=60):
    """One request on a new connection (gunicorn's sync workers close every connection)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, data, response.getheaders())
    finally:
        connection.close()


class Recorder:
    """What every client saw: latencies per page, status counts, errors, successful writes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.errors = []
        self.created = []  # case numbers of 201s
        self.writes = Counter()  # action → successful writes
        self.per_case = Counter()  # case number → successful actions
        self.unexpected = Counter()  # (page, status) of 4xx other than 409

    def add(self, page, status, ms):
        with self.lock:
            self.latencies[page].append(ms)
            self.statuses[page][status] += 1
            if status >= 500:
                self.errors.append(f"{page}: {status}")
            elif 400 <= status < 500 and status != 409:
                self.unexpected[f"{page} {status}"] += 1

    def error(self, page, message):
        with self.lock:
            self.statuses[page]["transport"] += 1
            self.errors.append(f"{page}: {message}")

    def wrote(self, action, number, created=False):
        with self.lock:
            self.writes[action] += 1
            if created:
                self.created.append(number)
            else:
                self.per_case[number] += 1


class User:
    """A virtual user: a web session (cookie) for pages and a bearer token for the API."""

    def __init__(self, port, username, recorder, *, stop_at, think, rng):
        self.port, self.username, self.rec = port, username, recorder
        self.stop_at, self.think, self.rng = stop_at, think, rng
        self.cookie = None
        self.token = None

    # plumbing

    def call(self, page, method, path, *, body=None, api=False, form=None):
        headers = {"Accept-Language": "zh-CN"}
        if api:
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            if body is not None:
                body = json.dumps(body)
                headers["Content-Type"] = "application/json"
        elif self.cookie:
            headers["Cookie"] = self.cookie
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            answer = request(self.port, method, path, headers=headers, body=body)
        except (OSError, http.client.HTTPException) as exc:
            self.rec.error(page, f"{type(exc).__name__}: {exc}")
            return None
        self.rec.add(page, answer.status, (time.perf_counter() - started) * 1000)
        for name, value in answer.headers:
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return answer

    def web_sign_in(self):
        """The login form with its CSRF token; True when the session is signed in."""
        page = self.call("web GET /login", "GET", "/login")
        if page is None or page.status != 200:
            return False
        match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
        answer = self.call(
            "web POST /login",
            "POST",
            "/login",
            form={
                "username": self.username,
                "password": PASSWORD,
                "csrf_token": match.group(1).decode() if match else "",
            },
        )
        return answer is not None and answer.status == 302

    def sign_in(self):
        if not self.web_sign_in():
            return False
        token = self.call(
            "api POST /tokens",
            "POST",
            "/api/v1/tokens",
            body={"username": self.username, "password": PASSWORD},
            api=True,
        )
        if token is None or token.status != 201:
            return False
        self.token = token.json()["token"]
        return True

    def running(self):
        return time.monotonic() < self.stop_at

    def pause(self):
        if self.think:
            time.sleep(min(self.rng.uniform(0, 2 * self.think), max(0.0, self.stop_at - time.monotonic())))

    def act(self, case, action, **body):
        """A workflow action; the case as it is afterwards, or None when it was refused."""
        answer = self.call(
            f"api POST actions/{action}",
            "POST",
            f"/api/v1/cases/{case['number']}/actions/{action}",
            body={"version": case["version"], **body},
            api=True,
        )
        if answer is not None and answer.status == 200:
            case = answer.json()["case"]
            self.rec.wrote(action, case["number"])
            return case
        return None

    def step(self):
        raise NotImplementedError


class Supervisor(User):
    def __init__(self, *args, units, violation_type, run_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.units, self.violation_type, self.run_id = units, violation_type, run_id
        self.cases = []  # numbers of the cases this user filed
        self.filed = 0

    def step(self):
        roll = self.rng.random()
        if roll < 0.25 or not self.cases:
            self.file_complaint()
        elif roll < 0.65:
            self.advance(self.rng.choice(self.cases))
        else:
            self.read()

    def file_complaint(self):
        self.filed += 1
        received = (datetime.now(timezone.utc) - timedelta(minutes=self.rng.randint(5, 600))).isoformat()
        answer = self.call(
            "api POST /complaints",
            "POST",
            "/api/v1/complaints",
            api=True,
            body={
                "channel": self.rng.choice(["hotline_95598", "online", "walk_in", "regulator_12398"]),
                "unit_code": self.rng.choice(self.units),
                "received_at": received,
                "summary": f"压力测试投诉：营业员服务态度生硬（{self.username} #{self.filed}）",
                "details": "客户反映办理业务时营业员态度冷淡，未一次性告知所需资料。",
                "complainant": {
                    "name": "测试客户",
                    "phone": f"139{self.rng.randint(10000000, 99999999)}",
                    "address": "清河县城关镇人民路1号",
                },
                "external_ref": f"{REF_PREFIX}{self.run_id}-{self.username}-{id(self)}-{self.filed}",
            },
        )
        if answer is not None and answer.status == 201:
            number = answer.json()["case"]["number"]
            self.rec.wrote("register", number, created=True)
            self.cases.append(number)

    def advance(self, number):
        answer = self.call("api GET /cases/<n>", "GET", f"/api/v1/cases/{number}", api=True)
        if answer is None or answer.status != 200:
            return
        case = answer.json()["case"]
        if case["state"] == "registered":
            self.act(case, "start_inquiry")
        elif case["state"] == "inquiring" and not case["inquiry"].get("facts"):
            self.act(
                case,
                "record_inquiry",
                facts="经调取营业厅录像，营业员确有态度生硬情况。",
                persons="营业员（压力测试）",
                accountability="营业员负直接责任，营业厅负管理责任。",
            )
        elif case["state"] == "inquiring" and not case["explanation"].get("requested_at"):
            self.act(case, "request_explanation", due_days=3)
        elif case["state"] == "inquiring" and case["explanation"].get("submitted_at"):
            self.act(
                case,
                "determine",
                outcome="substantiated",
                violation_type_code=self.violation_type,
                severity="general",
                responsibilities=[
                    {"unit_code": case["unit_code"], "person_name": "压力测试营业员", "kind": "direct"}
                ],
            )
        else:
            self.call("web GET /cases/<n>", "GET", f"/cases/{number}")  # waiting for the unit head

    def read(self):
        page = self.rng.choice(["list", "case", "inbox"])
        if page == "list":
            self.call("web GET /cases", "GET", "/cases?" + urlencode({"unit": self.rng.choice(self.units)}))
        elif page == "case" and self.cases:
            self.call("web GET /cases/<n>", "GET", f"/cases/{self.rng.choice(self.cases)}")
        else:
            self.call("web GET /inbox", "GET", "/inbox")


class UnitHead(User):
    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.seen = []

    def waiting(self, state):
        answer = self.call(
            f"api GET /cases?state={state}",
            "GET",
            "/api/v1/cases?" + urlencode({"state": state, "unit": self.unit, "limit": 100}),
            api=True,
        )
        if answer is None or answer.status != 200:
            return []
        items = [c for c in answer.json()["items"] if (c.get("external_ref") or "").startswith(REF_PREFIX)]
        self.seen = [c["number"] for c in items][-20:] or self.seen
        return items

    def step(self):
        roll = self.rng.random()
        if roll < 0.45:
            pending = [
                c
                for c in self.waiting("inquiring")
                if c["explanation"].get("requested_at") and not c["explanation"].get("submitted_at")
            ]
            if pending:
                self.act(
                    self.rng.choice(pending),
                    "submit_explanation",
                    text="营业厅已对当事营业员批评教育，并组织服务规范培训。",
                )
        elif roll < 0.7:
            determined = self.waiting("determined")
            if determined:
                self.act(self.rng.choice(determined), "accept_determination")
        elif roll < 0.85 or not self.seen:
            self.call("web GET /inbox", "GET", "/inbox")
        else:
            self.call("web GET /cases/<n>", "GET", f"/cases/{self.rng.choice(self.seen)}")


class External(User):
    def __init__(self, *args, bulletins, **kwargs):
        super().__init__(*args, **kwargs)
        self.bulletins = bulletins

    def sign_in(self):  # no API use: the web session only
        return self.web_sign_in()

    def step(self):
        roll = self.rng.random()
        if roll < 0.4:
            self.call("web GET /bulletins", "GET", "/bulletins")
        elif roll < 0.85:
            self.call("web GET /bulletins/<id>", "GET", f"/bulletins/{self.rng.choice(self.bulletins)}")
        else:
            self.call("web GET /portal", "GET", "/portal")


def make_users(count, port, recorder, *, stop_at, think, seed, context, run_id):
    """50 % supervisors, 30 % unit heads, 20 % external supervisors (one of each from 3 users)."""
    rng = random.Random(seed)
    n_heads = max(1 if count >= 3 else 0, round(count * 0.3))
    n_external = max(1 if count >= 3 else 0, round(count * 0.2))
    n_sup = count - n_heads - n_external
    users = []
    common = {"stop_at": stop_at, "think": think}
    for i in range(n_sup):
        username = list(SUPERVISORS)[i % len(SUPERVISORS)]
        county = SUPERVISORS[username]
        units = [
            code for c, codes in sorted(context["units"].items()) if county in (None, c) for code in codes
        ]
        users.append(
            Supervisor(
                port,
                username,
                recorder,
                rng=random.Random(rng.random()),
                units=units,
                violation_type=context["violation_type"],
                run_id=run_id,
                **common,
            )
        )
    for i in range(n_heads):
        username = sorted(HEADS)[i % len(HEADS)]
        users.append(
            UnitHead(
                port, username, recorder, rng=random.Random(rng.random()), unit=HEADS[username], **common
            )
        )
    for i in range(n_external):
        users.append(
            External(
                port,
                EXTERNALS[i % len(EXTERNALS)],
                recorder,
                rng=random.Random(rng.random()),
                bulletins=context["bulletins"],
                **common,
            )
        )
    return users


# --- the check -----------------------------------------------------------------------------------


def count_in_database(url, recorder, run_id):
    """Compare what the clients were told with what the database holds."""
    from sqlalchemy import func, select

    from tracker.cases.models import Case
    from tracker.core.history import HistoryEvent, verify_chain
    from tracker.extensions import db

    app = make_app(url)
    with app.app_context():
        load_cases = dict(
            db.session.execute(
                select(Case.number, Case.version).where(Case.external_ref.like(f"{REF_PREFIX}{run_id}-%"))
            ).all()
        )
        subjects = [f"case:{number}" for number in load_cases]
        events = Counter()
        for start in range(0, len(subjects), 500):
            chunk = subjects[start : start + 500]
            events.update(
                dict(
                    db.session.execute(
                        select(HistoryEvent.action, func.count())
                        .where(HistoryEvent.subject.in_(chunk))
                        .group_by(HistoryEvent.action)
                    ).all()
                )
            )
        chain = verify_chain()
        db.session.remove()
        db.engine.dispose()
    lost = []
    created = set(recorder.created)
    if len(created) != len(recorder.created):
        lost.append(f"the clients got the same case number twice: {len(recorder.created) - len(created)}")
    missing = created - set(load_cases)
    if missing:
        lost.append(f"{len(missing)} created cases missing, e.g. {sorted(missing)[:3]}")
    for action in ("register", *WRITE_ACTIONS):
        if events.get(action, 0) != recorder.writes.get(action, 0):
            lost.append(
                f"{action}: clients {recorder.writes.get(action, 0)}, history events {events.get(action, 0)}"
            )
    for number, actions in recorder.per_case.items():
        if load_cases.get(number) != 1 + actions:
            lost.append(f"{number}: version {load_cases.get(number)}, expected {1 + actions}")
    return {
        "cases_in_database": len(load_cases),
        "history_events": dict(events),
        "chain_ok": chain.ok,
        "chain_checked": chain.checked,
        "lost_writes": lost,
    }


# --- the run -------------------------------------------------------------------------------------


def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        info["cpu"] = model.group(1).strip() if model else None
        meminfo = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    return info


def run_load(
    database_url,
    *,
    users=10,
    seconds=15.0,
    think=0.3,
    seed_cases=30,
    seed=2026,
    echo=print,
    log_dir=None,
    cheap_hashing=False,
):
    """Migrate and seed ``database_url`` (an empty database), run the scenario against gunicorn,
    count. Returns the result dictionary."""
    argon2 = CHEAP_ARGON2 if cheap_hashing else None
    load_before = os.getloadavg()
    context = prepare(database_url, seed_cases=seed_cases, echo=echo, argon2=argon2)
    run_id = uuid.uuid4().hex[:8]
    recorder = Recorder()
    log_dir = log_dir or tempfile.mkdtemp(prefix="tracker-load-")
    server = Gunicorn(database_url, log_dir=log_dir, argon2=argon2)
    echo(f"gunicorn -w 2 on 127.0.0.1:{server.port}; {users} users for {seconds:.0f} s.")
    try:
        # The clock starts once everybody has signed in (argon2 is slow on purpose).
        stop_at = time.monotonic() + seconds + 3600
        vus = make_users(
            users,
            server.port,
            recorder,
            stop_at=stop_at,
            think=think,
            seed=seed,
            context=context,
            run_id=run_id,
        )
        signed_in = []

        def sign_in(vu):
            signed_in.append(vu.sign_in())

        threads = [threading.Thread(target=sign_in, args=(vu,)) for vu in vus]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if not all(signed_in):
            raise RuntimeError(f"not every user could sign in: {recorder.errors[:5]}")
        for page in list(recorder.latencies):  # sign-in times are not part of the load figures
            recorder.latencies.pop(page)
        started = time.monotonic()
        for vu in vus:
            vu.stop_at = started + seconds
        workers = [threading.Thread(target=_loop, args=(vu,), daemon=True) for vu in vus]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 180)
        elapsed = time.monotonic() - started
        hung = sum(worker.is_alive() for worker in workers)
    finally:
        server.stop()
    if hung:
        recorder.errors.append(f"{hung} users did not stop")
    if "Traceback" in server.log_tail(2_000_000):
        recorder.errors.append("gunicorn logged a traceback: " + server.log_tail(2000))
    check = count_in_database(database_url, recorder, run_id)
    total = sum(len(v) for v in recorder.latencies.values())
    pages = {
        page: {
            "requests": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "max_ms": round(max(values), 1),
            "mean_ms": round(statistics.fmean(values), 1),
            "statuses": dict(recorder.statuses[page]),
        }
        for page, values in sorted(recorder.latencies.items())
    }
    return {
        "database": database_url.split("://", 1)[0],
        "users": users,
        "roles": dict(Counter(type(vu).__name__ for vu in vus)),
        "seconds": seconds,
        "think_s": think,
        "elapsed_s": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1) if elapsed else None,
        "errors": len(recorder.errors),
        "error_samples": recorder.errors[:20],
        "unexpected_4xx": dict(recorder.unexpected),
        "conflicts_409": sum(s.get(409, 0) for s in recorder.statuses.values()),
        "successful_writes": dict(recorder.writes),
        "lost_writes": len(check["lost_writes"]),
        "lost_write_samples": check["lost_writes"][:20],
        "check": check,
        "pages": pages,
        "machine": {**machine(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "argon2": "cheap (test suite)" if cheap_hashing else "argon2-cffi defaults",
        "gunicorn": "gunicorn -w 2 -b 127.0.0.1:<port> wsgi:app",
    }


def _loop(vu):
    while vu.running():
        try:
            vu.step()
        except Exception as exc:  # noqa: BLE001 - a client bug must not look like a quiet server
            vu.rec.error("client", f"{type(exc).__name__}: {exc}")
        vu.pause()


def report(result, echo=print):
    echo("")
    echo(f"{'page':<34} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for page, row in result["pages"].items():
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(row["statuses"].items(), key=lambda kv: str(kv[0])))
        figures = f"{row['requests']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8}"
        echo(f"{page:<34} {figures}  {statuses}")
    echo("")
    echo(
        f"{result['requests']} requests in {result['elapsed_s']} s: {result['requests_per_s']} requests/s "
        f"({result['users']} users, {result['database']})"
    )
    echo(
        f"successful writes: {result['successful_writes']}; 409 conflicts: {result['conflicts_409']}; "
        f"unexpected 4xx: {result['unexpected_4xx'] or 0}"
    )
    echo(f"errors (5xx, transport): {result['errors']} {result['error_samples'][:3]}")
    echo(
        f"lost writes: {result['lost_writes']} {result['lost_write_samples'][:3]}; history chain "
        f"{'verifies' if result['check']['chain_ok'] else 'BROKEN'} "
        f"({result['check']['chain_checked']} entries)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--database-url", help="default: tracker_load on 127.0.0.1, or instance/load.db")
    parser.add_argument("--think", type=float, default=0.3, help="mean pause between a user's steps, seconds")
    parser.add_argument("--seed-cases", type=int, default=200, help="demo cases seeded before the run")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    url = args.database_url or (
        DEFAULT_PG_URL if args.db == "postgresql" else f"sqlite:///{ROOT / 'instance' / 'load.db'}"
    )
    if not re.match(r"^(sqlite:///|postgresql://[^@/]*@?(127\.0\.0\.1|localhost)[:/])", url):
        parser.error("the load test runs against a local database only")
    sys.path.insert(0, str(ROOT))
    create_database(url, print)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = run_load(
        url,
        users=args.users,
        seconds=args.seconds,
        think=args.think,
        seed_cases=args.seed_cases,
        seed=args.seed,
        log_dir=RESULTS,
    )
    report(result)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"load-{args.db}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"\nWritten to {path.relative_to(ROOT)}")
    return 0 if result["errors"] == 0 and result["lost_writes"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
