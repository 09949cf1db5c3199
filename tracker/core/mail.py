"""E-mail that follows a commit, never a rollback, and never breaks the request.

``queue_mail`` (called inside an operation's transaction) only notes the message in the
database session. When that session commits, the notes are rendered, each in its
recipient's language, and

- in a request, kept on ``g`` and sent once the response has gone out (``call_on_close``),
  so a slow or broken mail server never delays or fails the page;
- elsewhere (CLI, jobs), sent right after the commit.

A rollback, of the whole transaction or of a savepoint, drops what was noted inside it.
Sending failures are logged. Nothing is queued while ``MAIL_SERVER`` is None.
"""
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, g, has_app_context
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

_QUEUE_KEY = "tracker.mail_queue"  # in Session.info: [(savepoint or None, PendingMail)]
_DEFER_KEY = "_mail_defer"  # on g while a request is being handled
_OUTBOX_KEY = "_mail_outbox"  # on g: rendered messages waiting for the response to finish
SMTP_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class PendingMail:
    to: str
    locale: str | None
    subject: object  # str or lazy string, rendered in ``locale``
    body: object


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_config(cls, config):
        return cls(
            server=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            sender=config.get("MAIL_SENDER") or "tracker@localhost",
        )


def mail_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


def queue_mail(session, *, to, locale, subject, body) -> None:
    """Note a message to send if and when ``session``'s transaction commits."""
    if not to or not mail_enabled():
        return
    if isinstance(session, scoped_session):
        session = session()
    savepoint = session.get_nested_transaction()
    session.info.setdefault(_QUEUE_KEY, []).append((savepoint, PendingMail(to, locale, subject, body)))


# --- after the transaction ------------------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    queued = session.info.pop(_QUEUE_KEY, None)
    if not queued or not has_app_context():
        return
    try:
        messages = [_render(pending) for _, pending in queued]
    except Exception:  # the data is committed; a rendering bug must not turn that into an error
        current_app.logger.exception("Could not render %d notification e-mails", len(queued))
        return
    if g.get(_DEFER_KEY):
        g.setdefault(_OUTBOX_KEY, []).extend(messages)
    else:
        deliver(messages, SmtpSettings.from_config(current_app.config), current_app.logger)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    queued = session.info.get(_QUEUE_KEY)
    if not queued:
        return
    if previous_transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
    elif previous_transaction.nested:
        # A rolled-back savepoint takes with it what was queued inside it (or inside its children).
        session.info[_QUEUE_KEY] = [
            (sp, pending) for sp, pending in queued if not _within(sp, previous_transaction)
        ]


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    # The outermost transaction ended without a commit (e.g. Session.close()): forget the queue.
    if transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)


def _within(savepoint, transaction) -> bool:
    while savepoint is not None:
        if savepoint is transaction:
            return True
        savepoint = savepoint.parent
    return False


def _render(pending: PendingMail) -> EmailMessage:
    config = current_app.config
    with force_locale(pending.locale or config["BABEL_DEFAULT_LOCALE"]):
        subject, body = str(pending.subject), str(pending.body)
    message = EmailMessage()
    message["From"] = config.get("MAIL_SENDER") or "tracker@localhost"
    message["To"] = pending.to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="tracker.localhost")
    message.set_content(body)
    return message


def deliver(messages, settings: SmtpSettings, logger) -> int:
    """Send over one SMTP connection; log and swallow every failure. Returns the number sent."""
    if not messages:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=SMTP_TIMEOUT) as smtp:
            if settings.use_tls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            for message in messages:
                try:
                    smtp.send_message(message, from_addr=settings.sender)
                    sent += 1
                except smtplib.SMTPRecipientsRefused:
                    logger.warning("The mail server refused the recipient %s", message["To"])
    except Exception:  # whatever goes wrong, the change is committed and the page is served
        logger.exception("Could not send %d of %d e-mails through %s:%s", len(messages) - sent,
                         len(messages), settings.server, settings.port)
    return sent


# --- request wiring -------------------------------------------------------------------------


def _defer_during_request():
    setattr(g, _DEFER_KEY, True)  # returns None: a before_request value would replace the view


def _send_after_response(response):
    messages = g.pop(_OUTBOX_KEY, None)
    if messages:
        settings, logger = SmtpSettings.from_config(current_app.config), current_app.logger
        # Runs when the server has finished sending the response (WSGI close()).
        response.call_on_close(lambda: deliver(messages, settings, logger))
    return response


def _send_leftovers(exc):
    # A commit after the response was prepared (rare): send now rather than lose the mail.
    messages = g.pop(_OUTBOX_KEY, None)
    if messages:
        deliver(messages, SmtpSettings.from_config(current_app.config), current_app.logger)


def init_app(app):
    app.before_request(_defer_during_request)
    app.after_request(_send_after_response)
    app.teardown_appcontext(_send_leftovers)
