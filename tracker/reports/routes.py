"""Dashboards, the unit report (page and PDF) and bulk report jobs. Thin views.

Staff only: external supervisors get 403 on every URL here; a unit outside the user's scope
is 404 (it does not exist for them).
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.core.errors import DomainError
from tracker.core.forms import populate_errors
from tracker.core.pdf import PdfRenderFailed, pdf_response
from tracker.extensions import db
from tracker.reports import jobs
from tracker.reports.figures import Period, ReportTooLarge, Selection, unit_figures
from tracker.reports.forms import BulkReportForm, PeriodForm, default_period
from tracker.reports.models import ReportJob
from tracker.reports.permissions import can_report_on, can_start_bulk_job, can_view_job, can_view_reports
from tracker.reports.states import JobState
from tracker.reports.unit_report import render_unit_report, report_filename
from tracker.reports.visuals import figure_charts
from tracker.units.queries import get_unit_by_code, unit_choices

bp = Blueprint("reports", __name__)


@bp.before_request
@login_required
def _staff_only():
    if not can_view_reports(current_user):
        abort(403)


def _unit_in_scope(code):
    unit = get_unit_by_code(code)
    if unit is None or not can_report_on(current_user, unit):
        abort(404)
    return unit


def _period_form(**kwargs):
    form = PeriodForm(request.args, unit_choices=unit_choices(current_user), **kwargs)
    form.validate()
    return form


def _locale():
    return str(get_locale())


# --- dashboards -------------------------------------------------------------------------------


@bp.route("/dashboard")
def dashboard():
    form = _period_form(blank_unit=_("— my whole scope —"))
    if form.unit.data and not form.unit.errors:
        date_from, date_to = form.period()
        return redirect(url_for(".unit_dashboard", code=form.unit.data, **{"from": date_from, "to": date_to}))
    return _render_dashboard(form, None)


@bp.route("/dashboard/<code>")
def unit_dashboard(code):
    unit = _unit_in_scope(code)
    form = _period_form(blank_unit=_("— my whole scope —"))
    form.unit.data = unit.code
    return _render_dashboard(form, unit)


def _render_dashboard(form, unit):
    figures = unit_figures(Selection(current_user, unit, Period(*form.period())), with_warning=True)
    every_warning = request.args.get("warnings") == "all"
    return render_template(
        "reports/dashboard.html", form=form, unit=unit, figures=figures, charts=figure_charts(figures),
        english=_locale().startswith("en"),
        warning_rows=None if every_warning else current_app.config["DASHBOARD_WARNING_ROWS"],
        every_warning_url=url_for(request.endpoint, **request.view_args, warnings="all",
                                  **{key: request.args[key] for key in ("from", "to") if key in request.args}),
    )


# --- the unit report --------------------------------------------------------------------------


@bp.route("/reports/units")
def unit_report_form():
    form = _period_form()
    if form.unit.data and not form.unit.errors and "unit" in request.args:
        date_from, date_to = form.period()
        return redirect(url_for(".unit_report", code=form.unit.data, **{"from": date_from, "to": date_to}))
    if not form.unit.data:
        form.unit.data = current_user.unit.code if current_user.unit else None
    start, end = form.period()
    form.date_from.data, form.date_to.data = start, end
    return render_template("reports/unit_report.html", form=form, unit=None, figures=None)


@bp.route("/reports/units/<code>")
def unit_report(code):
    unit = _unit_in_scope(code)
    form = _period_form()
    form.unit.data = unit.code
    date_from, date_to = form.period()
    form.date_from.data, form.date_to.data = date_from, date_to
    figures = unit_figures(Selection(current_user, unit, Period(date_from, date_to)))
    return render_template("reports/unit_report.html", form=form, unit=unit, figures=figures,
                           pdf_args={"from": date_from, "to": date_to})


@bp.route("/reports/units/<code>.pdf")
def unit_report_pdf(code):
    unit = _unit_in_scope(code)
    form = _period_form()
    date_from, date_to = form.period()
    try:
        pdf = render_unit_report(unit, date_from, date_to, locale=_locale(), viewer=current_user)
    except (ReportTooLarge, PdfRenderFailed) as error:
        flash(str(error.message), "error")
        return redirect(url_for(".unit_report", code=unit.code, **{"from": date_from, "to": date_to}))
    return pdf_response(pdf, report_filename(unit, date_from, date_to))


# --- bulk jobs --------------------------------------------------------------------------------


@bp.route("/reports/bulk", methods=["GET", "POST"])
def bulk_new():
    if not can_start_bulk_job(current_user):
        abort(403)
    form = BulkReportForm(unit_choices=unit_choices(current_user))
    if request.method == "GET":
        form.date_from.data, form.date_to.data = default_period()
        form.levels.data = [level.value for level in jobs.DEFAULT_LEVELS]
        form.unit.data = current_user.unit.code if current_user.unit else None
    if form.validate_on_submit():
        unit = _unit_in_scope(form.unit.data)
        try:
            job = jobs.start_bulk_reports(actor=current_user, unit=unit, date_from=form.date_from.data,
                                          date_to=form.date_to.data, levels=form.levels.data, locale=_locale())
        except DomainError as error:
            populate_errors(form, error)
        else:
            db.session.commit()
            try:
                jobs.enqueue(job)
            except Exception as error:  # the queue is down: say so on the job's page
                job.state, job.error = JobState.failed, f"{type(error).__name__}: {error}"[:2000]
                db.session.commit()
            return redirect(url_for(".job_status", job_id=job.id))
    recent = db.session.scalars(
        db.select(ReportJob).where(ReportJob.created_by_id == current_user.id)
        .order_by(ReportJob.id.desc()).limit(10)
    ).all()
    return render_template("reports/bulk_new.html", form=form, recent=recent)


def _job_for(job_id):
    job = db.session.get(ReportJob, job_id)
    if job is None or job.kind != jobs.JOB_KIND or not can_view_job(current_user, job, jobs.job_unit(job)):
        abort(404)
    return job


@bp.route("/reports/jobs/<int:job_id>")
def job_status(job_id):
    job = _job_for(job_id)
    running = job.state in (JobState.queued, JobState.running)
    return render_template("reports/job.html", job=job, unit=jobs.job_unit(job), running=running,
                           has_result=jobs.result_file(job) is not None)


@bp.route("/reports/jobs/<int:job_id>/download")
def job_download(job_id):
    job = _job_for(job_id)
    path = jobs.result_file(job) if job.state == JobState.done else None
    if path is None:
        abort(404)
    params = job.params
    name = f"reports-{params['unit_code']}-{params['date_from']}-{params['date_to']}.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
