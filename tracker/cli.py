"""Command-line interface: ``flask --app tracker <command>``."""
import click
from flask_migrate import upgrade

from tracker.accounts import operations as account_ops
from tracker.accounts.states import Role
from tracker.core.errors import DomainError
from tracker.extensions import db
from tracker.units.queries import get_unit_by_code


@click.command("init-db")
def init_db_command():
    """Create or upgrade the database schema (migrate to head)."""
    upgrade()
    click.echo("Database is at the latest schema.")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", default=None, help="Scope unit code (required for unit heads).")
@click.option("--name", "display_name", default=None, help="Display name (defaults to the username).")
def create_user_command(username, password, role, unit_code, display_name):
    """Create a user account."""
    unit = None
    if unit_code:
        unit = get_unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(f"Unknown unit code: {unit_code}")
    try:
        user = account_ops.create_user(
            actor=None,
            username=username,
            display_name=display_name or username,
            password=password,
            role=Role(role),
            unit=unit,
        )
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in error.fields.items())
        raise click.ClickException(details or str(error.message)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username}.")


@click.command("seed-demo")
@click.option("--password", default="demo1234", show_default=True, help="Password of every demo account.")
@click.option("--cases", default=200, show_default=True, help="How many demo cases to replay (0 for none).")
@click.option("--audits", default=40, show_default=True, help="How many demo audits to replay (0 for none).")
def seed_demo_command(password, cases, audits):
    """Fill the database with a believable demo organisation and accounts (idempotent)."""
    from tracker.seed.demo import seed_demo

    summary = seed_demo(password=password, cases=cases, audits=audits, echo=click.echo)
    db.session.commit()
    click.echo("")
    click.echo(f"Demo logins (password for all: {password}):")
    for user in summary.users:
        scope = user.unit.name if user.unit else "全组织 / whole organisation"
        click.echo(f"  {user.username:<16} {user.role.value:<11} {scope}")


@click.command("seed-catalogue")
def seed_catalogue_command():
    """Add the standard violation catalogue (服务违规类型); entries already present are kept."""
    from tracker.catalogue.operations import seed_violation_types

    created = seed_violation_types()
    db.session.commit()
    click.echo(f"Violation types: {created} created.")


@click.command("seed-checklists")
def seed_checklists_command():
    """Add the standard checklist templates (营业厅暗访, 95598 电话暗访, 抢修现场检查); those present are kept."""
    from tracker.audits.operations import seed_checklists
    from tracker.catalogue.operations import seed_violation_types

    violation_types = seed_violation_types()  # the items cite the catalogue
    created = seed_checklists()
    db.session.commit()
    if violation_types:
        click.echo(f"Violation types: {violation_types} created.")
    click.echo(f"Checklists: {created} created.")


@click.command("tick")
def tick_command():
    """Run the time-driven steps: elapsed appeal windows move on, overdue clocks escalate.

    Cron runs it every few minutes, e.g. ``*/5 * * * * cd /srv/tracker && flask --app tracker tick``.
    Each step is idempotent, so a missed or repeated run does no harm.
    """
    from flask_babel import gettext as _

    from tracker.cases.escalation import escalate_overdue
    from tracker.cases.operations import advance_elapsed_appeal_windows
    from tracker.core.database import utcnow

    now = utcnow()
    windows = advance_elapsed_appeal_windows(now)
    escalated = escalate_overdue(now)
    db.session.commit()  # notification e-mails go out right after this commit
    click.echo(_("Appeal windows elapsed: %(advanced)s. Overdue deadlines escalated: %(escalated)s.",
                 advanced=len(windows.advanced), escalated=escalated))
    for case, error in windows.refused:
        click.echo(_("%(number)s stays determined: %(reason)s", number=case.number, reason=error.message), err=True)
    if windows.refused:  # cron mails the output of a failed run to the administrator
        raise SystemExit(1)


@click.command("backup")
@click.option("--output", "output_dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the archive (default: instance/backups).")
def backup_command(output_dir):
    """Back up the database and the evidence files into one archive."""
    from pathlib import Path

    from flask import current_app

    from tracker.core.backup import BackupError, create_backup

    folder = Path(output_dir) if output_dir else Path(current_app.instance_path) / "backups"
    try:
        archive = create_backup(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {archive}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(archive, yes):
    """Replace the database and the evidence files with a backup (stop the app first)."""
    from pathlib import Path

    from tracker.core.backup import BackupError, restore_backup

    if not yes:
        click.confirm("This replaces every record and evidence file. Continue?", abort=True)
    try:
        report = restore_backup(Path(archive))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored: {report.counts}")
    click.echo(f"History chain: {'intact' if report.chain_ok else 'BROKEN'} ({report.checked} entries checked)")
    if not report.chain_ok:
        raise click.ClickException("the restored history chain does not verify")


@click.command("import-95598")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The supervisor the cases are registered by.")
@click.option("--max-rows", type=int, default=None, help="Row limit (default: IMPORT_MAX_ROWS).")
@click.option("--max-bytes", type=int, default=None, help="File size limit (default: IMPORT_MAX_BYTES).")
def import_95598_command(path, username, max_rows, max_bytes):
    """Import 95598 work orders from an .xlsx or CSV file: all rows or, if any row is wrong, none."""
    from pathlib import Path

    from flask_babel import gettext as _
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.core.permissions import is_supervisor
    from tracker.reports.importer import ImportLimits, ImportRefused, import_work_orders

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not is_supervisor(user):
        raise click.ClickException(f"{username} is not an active supervisor.")
    limits = ImportLimits.from_config()
    limits.max_rows = max_rows or limits.max_rows
    limits.max_bytes = max_bytes or limits.max_bytes
    if Path(path).stat().st_size > limits.max_bytes:
        raise click.ClickException(f"The file is larger than {limits.max_bytes} bytes (--max-bytes).")
    try:
        result = import_work_orders(user, Path(path), limits)
    except ImportRefused as error:
        db.session.rollback()
        for message in error.preview.file_errors:
            click.echo(str(message), err=True)
        for row, column, message in error.preview.error_lines():
            click.echo(_("Row %(row)s, %(column)s: %(message)s", row=row, column=column, message=message), err=True)
        raise click.ClickException(str(error.message)) from None
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    click.echo(_("%(created)s work orders imported; %(skipped)s already imported were skipped.",
                 created=result.created, skipped=result.skipped))


@click.command("generate-load")
@click.option("--cases", default=1_000_000, show_default=True, help="How many cases to add.")
@click.option("--units", default=2000, show_default=True, help="Size of the new organisation tree.")
@click.option("--seed", default=20261121, show_default=True, help="Random seed (same seed, same data).")
@click.option("--batch", default=10_000, show_default=True, help="Cases per transaction.")
def generate_load_command(cases, units, seed, batch):
    """Add a benchmark load: a new LG-* unit tree and CASES cases with their history.

    For benchmark databases only: it adds data and never removes any.
    """
    from tracker.loadgen import generate_load

    report = generate_load(cases=cases, units=units, seed=seed, batch=batch, echo=click.echo)
    click.echo(f"Done in {report.seconds:.1f} s ({report.rate():,.0f} cases/s), tree {report.tag}:")
    for table, count in sorted(report.counts.items()):
        click.echo(f"  {table:<18} {count:>12,}")
    click.echo(f"  history seq {report.history_from_seq:,} .. {report.history_to_seq:,}")


@click.group("stats")
def stats_group():
    """The case statistics roll-up behind the dashboards and reports."""


@stats_group.command("check")
def stats_check_command():
    """Compare the roll-up with a computation from the cases; exit 1 on any difference."""
    from flask_babel import gettext as _

    from tracker.reports import stats

    problems = stats.check(db.session.connection())
    for problem in problems[:50]:
        click.echo(problem)
    if problems:
        raise click.ClickException(_("%(n)s roll-up rows differ from the cases; run \"stats rebuild\".",
                                     n=len(problems)))
    click.echo(_("The roll-up matches the cases."))


@stats_group.command("rebuild")
def stats_rebuild_command():
    """Recompute the roll-up from the cases (after a bulk load, or to repair it)."""
    from flask_babel import gettext as _

    from tracker.reports import stats

    rows = stats.rebuild(db.session.connection())
    db.session.commit()
    click.echo(_("The roll-up was rebuilt: %(n)s rows.", n=rows))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker_command(burst):
    """Run the background job worker (RQ on REDIS_URL): bulk PDF reports."""
    from flask import current_app
    from flask_babel import gettext as _

    from tracker.reports.jobs import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException(_(
            "REDIS_URL is not set. Without Redis the web process runs report jobs itself; "
            "set REDIS_URL to run them in this worker instead."
        ))
    run_worker(current_app.config["REDIS_URL"], burst=burst)


def register_cli(app):
    for command in (
        init_db_command, create_user_command, seed_demo_command, seed_catalogue_command, seed_checklists_command,
        tick_command,
        backup_command, restore_command, import_95598_command, generate_load_command,
        worker_command, stats_group,
    ):
        app.cli.add_command(command)
