"""The 95598 import at scale: a CSV of N work orders through the importer's confirm path
(``import_work_orders``: read, check every row, register every new one), timed in one fresh
transaction that is rolled back afterwards, so the benchmark database is left as it was."""
import csv
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HEADERS = ("工单编号", "受理时间", "供电单位编码", "工单摘要", "诉求内容", "客户姓名", "联系电话", "用电地址")


def write_work_orders(path: Path, unit_codes, rows_count: int, *, seed=7):
    from tracker.seed import data_cases

    rng = random.Random(seed)
    run = datetime.now().strftime("%H%M%S")
    now = datetime.now(timezone.utc) + timedelta(hours=8)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(rows_count):
            scenario = rng.choice(data_cases.CASE_SCENARIOS)
            received = now - timedelta(days=rng.uniform(0.1, 30))
            writer.writerow((
                f"BENCH{run}{i:07d}", f"{received:%Y-%m-%d %H:%M:%S}", rng.choice(unit_codes), scenario["summary"],
                scenario["details"], rng.choice(data_cases.COMPLAINANT_NAMES),
                rng.choice(data_cases.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}", rng.choice(data_cases.ADDRESSES),
            ))


def time_import(app, importer, *, rows_count, limit_s, bench_user):
    from sqlalchemy import select

    from bench.runner import Row
    from tracker.accounts.models import User
    from tracker.extensions import db
    from tracker.loadgen import CODE_PREFIX
    from tracker.units.models import Unit
    from tracker.units.states import UnitLevel

    name = f"import {rows_count:,} work orders (CSV, confirm path)"
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder, app.test_request_context():
        actor = db.session.scalar(select(User).where(User.username == bench_user))
        codes = db.session.scalars(select(Unit.code).where(
            Unit.code.like(f"{CODE_PREFIX}%"), Unit.level.in_((UnitLevel.hall, UnitLevel.team)), Unit.active.is_(True)
        )).all()
        path = Path(folder) / "work-orders.csv"
        write_work_orders(path, codes, rows_count)
        limits = importer.ImportLimits(max_bytes=path.stat().st_size + 1, max_rows=rows_count + 10,
                                       max_unpacked_bytes=1 << 34, max_compression_ratio=1000)
        db.session.rollback()
        started = time.perf_counter()
        preview = importer.preview_import(actor, path, limits)
        preview_s = time.perf_counter() - started
        db.session.rollback()
        started = time.perf_counter()
        try:
            result = importer.import_work_orders(actor, path, limits)
            db.session.flush()
            seconds = time.perf_counter() - started
        finally:
            db.session.rollback()  # the benchmark database stays as it was
    created = getattr(result, "created", 0)
    return Row(name, [seconds * 1000], limit_s * 1000,
               note=f"{created:,} registered, {rows_count / seconds:,.0f} rows/s; preview alone {preview_s:.1f} s "
                    f"({preview.count(importer.RowStatus.new):,} new); rolled back",
               extra={"rows": rows_count, "created": created, "seconds": round(seconds, 1),
                      "preview_s": round(preview_s, 1)})
