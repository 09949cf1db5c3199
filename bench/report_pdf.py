"""Benchmark of the unit violation report PDF.

    .venv/bin/python -m bench.report_pdf [--cases 200] [--runs 10]

Builds a temporary SQLite database (the real migrations, the demo organisation and catalogue),
registers ``--cases`` cases for one county's subtree over six months through the real
operations (about half determined, with measures, some rectified), adds approved audits, and
renders the report ``--runs`` times. Prints median and p95 of: queries + HTML, WeasyPrint alone
on the same HTML (in this process), the whole report as the web serves it (queries, HTML and
WeasyPrint in a child process), and the PDF size.
"""
import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

UNIT_CODE = "JZ-QH"
PERIOD_FROM = date(2025, 1, 1)
PERIOD_TO = date(2025, 6, 30)


def _percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def build_data(cases: int, seed: int = 7):
    """Fill the (empty, migrated) database of the current app context."""
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.cases import operations as ops
    from tracker.cases.models import ViolationType
    from tracker.cases.states import Channel
    from tracker.core.database import as_of
    from tracker.extensions import db
    from tracker.seed.demo import seed_demo
    from tracker.units.models import Unit
    from tracker.units.queries import get_unit_by_code, in_subtree

    rng = random.Random(seed)
    seed_demo(password="bench-password-1", cases=0)
    db.session.flush()
    county = get_unit_by_code(UNIT_CODE)
    units = db.session.scalars(select(Unit).where(in_subtree(Unit.path, county.path))).all()
    sup, sup2 = db.session.scalars(select(User).where(User.role == "supervisor", User.unit_id.is_(None))).all()[:2]
    types = db.session.scalars(select(ViolationType)).all()
    start = datetime(2025, 1, 2, 1, 0, tzinfo=timezone.utc)
    span = (datetime(2025, 6, 29, tzinfo=timezone.utc) - start).total_seconds()
    for i in range(cases):
        unit = rng.choice(units)
        received = start + timedelta(seconds=rng.uniform(0, span))
        with as_of(received + timedelta(minutes=30)):
            case, _ = ops.register_case(
                actor=sup, channel=rng.choice(list(Channel)), unit=unit, received_at=received,
                summary=f"客户反映{unit.name}工作人员服务态度生硬，办理业务推诿（{i + 1}）",
                details="客户称多次到营业厅办理增容业务均被告知资料不全，未一次性告知。",
                complainant=ops.Complainant("张伟", f"138{rng.randrange(10**8):08d}", "城关镇人民路88号"),
                external_ref=f"BENCH-{i + 1:05d}",
            )
        if rng.random() < 0.25:
            continue
        with as_of(received + timedelta(hours=5)):
            ops.start_inquiry(case, actor=sup, version=case.version)
            ops.record_inquiry(case, actor=sup, version=case.version, facts="经调查核实，工作人员李娜确有推诿情况。",
                               persons="营业员李娜", accountability="营业员负直接责任，所长负管理责任。")
        if rng.random() < 0.2:
            with as_of(received + timedelta(days=2)):
                ops.mark_unfounded(case, actor=sup, version=case.version, reason="经核实不属实")
            continue
        vt = rng.choice(types)
        severity = rng.choices(["general", "serious", "grave"], weights=[6, 3, 1])[0]
        with as_of(received + timedelta(days=3)):
            ops.determine_case(
                case, actor=sup, version=case.version, outcome="substantiated", violation_type_code=vt.code,
                severity=severity,
                responsibilities=[{"unit_code": unit.code, "person_name": rng.choice(["李娜", "王强", "赵敏"]),
                                   "kind": "direct"},
                                  {"unit_code": county.code, "person_name": None, "kind": "management"}],
                measures=[{"kind": "performance_points", "responsibility_index": 0, "points": rng.choice([1, 2, 3])},
                          {"kind": "fine", "responsibility_index": 1, "amount": 200}],
            )
        head = _head_for(unit)
        if head is None or rng.random() < 0.4:
            continue
        with as_of(received + timedelta(days=4)):
            ops.accept_determination(case, actor=head, version=case.version)
        if rng.random() < 0.7:
            with as_of(received + timedelta(days=rng.uniform(6, 22))):
                ops.submit_rectification(case, actor=head, version=case.version, text="已组织整改并开展培训。")
    _add_audits(units, sup, rng)
    db.session.commit()
    return county, sup


def _head_for(unit):
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.extensions import db

    return db.session.scalar(select(User).where(User.role == "unit_head", User.unit_id == unit.id))


def _add_audits(units, author, rng):
    from tracker.audits.models import Audit, AuditResult, ChecklistItem, ChecklistSection, ChecklistTemplate
    from tracker.audits.states import AuditKind, AuditState, ItemResult
    from tracker.extensions import db

    template = ChecklistTemplate(code="BENCH", name="营业厅检查", kind=AuditKind.inspection)
    db.session.add(template)
    db.session.flush()
    for s, section_name in enumerate(["窗口环境", "服务规范", "业务办理"]):
        section = ChecklistSection(position=s, name=section_name, name_en=f"Section {s + 1}")
        template.sections.append(section)
        for k in range(4):
            section.items.append(ChecklistItem(template_id=template.id, position=k, code=f"B-{s}{k}",
                                               text="检查项", weight=rng.randint(1, 5)))
    db.session.flush()
    items = [item for section in template.sections for item in section.items]
    for i in range(12):
        unit = rng.choice(units)
        visited = datetime(2025, 1, 10, tzinfo=timezone.utc) + timedelta(days=13 * i)
        audit = Audit(kind=AuditKind.inspection, template=template, unit_id=unit.id, visited_at=visited,
                      state=AuditState.approved, author_id=author.id, approved_at=visited,
                      score=Decimal(rng.randint(70, 100)))
        for item in items:
            audit.results.append(AuditResult(item=item, result=rng.choice(
                [ItemResult.passed, ItemResult.passed, ItemResult.failed, ItemResult.not_applicable])))
        db.session.add(audit)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--locale", default="zh_Hans_CN")
    parser.add_argument("--keep", metavar="PDF", help="write the last PDF here")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.core import pdf as pdf_module
    from tracker.extensions import db

    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        app = create_app({
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "SECRET_KEY": "bench", "REDIS_URL": None,
            "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        })
        app.instance_path = tmp
        # After create_app, which imports every model (the report modules need all mappers).
        from tracker.reports.figures import Period, Selection, count_cases
        from tracker.reports.unit_report import render_unit_report, unit_report_html

        with app.app_context():
            upgrade()
            t0 = time.perf_counter()
            county, viewer = build_data(args.cases)
            n = count_cases(Selection(viewer, county, Period(PERIOD_FROM, PERIOD_TO)))
            print(f"Built {n} cases for {county.name} ({county.code}) in {time.perf_counter() - t0:.1f} s; "
                  f"period {PERIOD_FROM} – {PERIOD_TO}; {args.runs} runs each.")
            render_unit_report(county, PERIOD_FROM, PERIOD_TO, locale=args.locale, viewer=viewer)  # warm-up

            dirs = pdf_module.default_allowed_dirs()
            warm_fonts = pdf_module._child_fonts(pdf_module.cjk_font_path(), dirs)
            wall = {key: [] for key in ("html", "pdf", "warm", "total")}
            cpu = {key: [] for key in ("html", "pdf", "warm")}
            sizes, html, pdf = [], None, None
            load_before = os.getloadavg()[0]
            for _ in range(args.runs):
                db.session.expire_all()
                t, c = time.perf_counter(), time.process_time()
                html = unit_report_html(county, PERIOD_FROM, PERIOD_TO, locale=args.locale, viewer=viewer)
                wall["html"].append(time.perf_counter() - t)
                cpu["html"].append(time.process_time() - c)
                t, c = time.perf_counter(), time.process_time()
                pdf_module.render_pdf(html)
                wall["pdf"].append(time.perf_counter() - t)
                cpu["pdf"].append(time.process_time() - c)
                t, c = time.perf_counter(), time.process_time()
                pdf_module._write_pdf(html, None, dirs, warm_fonts)
                wall["warm"].append(time.perf_counter() - t)
                cpu["warm"].append(time.process_time() - c)
                db.session.expire_all()
                t = time.perf_counter()
                pdf = render_unit_report(county, PERIOD_FROM, PERIOD_TO, locale=args.locale, viewer=viewer)
                wall["total"].append(time.perf_counter() - t)
                sizes.append(len(pdf))
            load_after = os.getloadavg()[0]
            if args.keep:
                Path(args.keep).write_bytes(pdf)
            db.session.remove()
            db.engine.dispose()

    def line(name, values, unit="s"):
        if unit == "s":
            print(f"  {name:<48} median {statistics.median(values):6.3f} s   p95 {_percentile(values, 95):6.3f} s")
        else:
            print(f"  {name:<48} median {statistics.median(values) / 1024:6.0f} KiB p95 "
                  f"{_percentile(values, 95) / 1024:6.0f} KiB")

    names = {
        "html": "queries + HTML",
        "pdf": "WeasyPrint alone, in-process (render_pdf)",
        "warm": "WeasyPrint alone, fonts preloaded (as the child)",
        "total": "total as served (queries, HTML, child process)",
    }
    print(f"Wall-clock (load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPUs):")
    for key, values in wall.items():
        line(names[key], values)
    print("CPU time of this process (less sensitive to the other load on the machine):")
    for key, values in cpu.items():
        line(names[key], values)
    line("PDF size", sizes, unit="bytes")
    print(f"  HTML size {len(html) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
