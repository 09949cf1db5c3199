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
def seed_demo_command(password, cases):
    """Fill the database with a believable demo organisation and accounts (idempotent)."""
    from tracker.seed.demo import seed_demo

    summary = seed_demo(password=password, cases=cases, echo=click.echo)
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


@click.command("tick")
def tick_command():
    """Run the time-driven steps: elapsed appeal windows move on, overdue clocks escalate.

    Cron runs it every few minutes, e.g. ``*/5 * * * * cd /srv/tracker && flask --app tracker tick``.
    Each step is idempotent, so a missed or repeated run does no harm.
    """
    from tracker.cases.escalation import escalate_overdue
    from tracker.cases.operations import advance_elapsed_appeal_windows
    from tracker.core.database import utcnow

    now = utcnow()
    advanced = advance_elapsed_appeal_windows(now)
    escalated = escalate_overdue(now)
    db.session.commit()  # notification e-mails go out right after this commit
    click.echo(f"Appeal windows elapsed: {len(advanced)}. Overdue deadlines escalated: {escalated}.")


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


def register_cli(app):
    for command in (
        init_db_command, create_user_command, seed_demo_command, seed_catalogue_command, tick_command,
        backup_command, restore_command,
    ):
        app.cli.add_command(command)
