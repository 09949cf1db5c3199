"""Account operations: verb_noun(obj, *, actor, ...). They flush, never commit."""
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from tracker.accounts.models import ApiToken, User
from tracker.accounts.passwords import hash_password, needs_rehash, verify_password
from tracker.accounts.states import ROLES_ALLOWING_UNIT, ROLES_REQUIRING_UNIT, Role
from tracker.accounts.throttle import Lock, get_throttle, throttle_keys
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, PermissionDenied, ValidationError
from tracker.core.permissions import can_manage_users
from tracker.extensions import db

MIN_PASSWORD_LENGTH = 8


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = _l("Wrong username or password.")


class LoginLocked(DomainError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, lock: Lock):
        self.lock = lock
        minutes = max(1, round(lock.retry_after_seconds / 60))
        super().__init__(
            _l("Too many failed attempts. Try again in %(minutes)s minutes.", minutes=minutes),
            headers={"Retry-After": str(lock.retry_after_seconds)},
        )


def find_user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(username: str, password: str, *, address: str | None) -> User:
    """Check credentials under the throttle. Failures are flushed: the caller commits them too."""
    throttle = get_throttle()
    keys = throttle_keys(username, address)
    for key, _limit in keys:
        lock = throttle.locked(key)
        if lock:
            raise LoginLocked(lock)
    user = find_user_by_username(username)
    if user is None or not verify_password(user.password_hash, password) or not user.active:
        config = current_app.config
        for key, limit in keys:
            throttle.fail(key, limit, config["LOGIN_FAILURE_WINDOW"], config["LOGIN_LOCKOUT"])
        raise InvalidCredentials()
    throttle.reset(keys[0][0])
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _check_password_strength(password: str, field: str):
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _l("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH), field=field
        )


def _check_role_and_unit(role: Role, unit):
    if role in ROLES_REQUIRING_UNIT and unit is None:
        raise ValidationError(_l("A unit head must belong to a unit."), field="unit_code")
    if unit is not None and role not in ROLES_ALLOWING_UNIT:
        raise ValidationError(_l("This role is not scoped to a unit."), field="unit_code")


def create_user(*, actor, username, display_name, password, role: Role, unit=None, email=None) -> User:
    if actor is not None and not can_manage_users(actor):
        raise PermissionDenied()
    username = username.strip()
    if find_user_by_username(username):
        raise ValidationError(_l("This username is taken."), field="username")
    _check_password_strength(password, "password")
    _check_role_and_unit(role, unit)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, actor, display_name, role: Role, unit, email=None) -> User:
    if not can_manage_users(actor):
        raise PermissionDenied()
    _check_role_and_unit(role, unit)
    scope_changed = role != user.role or unit != user.unit
    user.display_name, user.role, user.unit, user.email = display_name.strip(), role, unit, email or None
    if scope_changed:
        # New rights take effect at the next login, not inside sessions opened under the old ones.
        end_sessions(user, actor=actor)
    db.session.flush()
    return user


def end_sessions(user: User, *, actor) -> None:
    """Every session and API token of the user stops working at its next request."""
    if actor is not None and actor.id != user.id and not can_manage_users(actor):
        raise PermissionDenied()
    user.session_version += 1
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.flush()


def disable_user(user: User, *, actor) -> None:
    if not can_manage_users(actor):
        raise PermissionDenied()
    if actor.id == user.id:
        raise ValidationError(_l("You cannot disable your own account."))
    user.active = False
    end_sessions(user, actor=actor)


def enable_user(user: User, *, actor) -> None:
    if not can_manage_users(actor):
        raise PermissionDenied()
    user.active = True
    db.session.flush()


def reset_password(user: User, *, actor, new_password: str) -> None:
    if not can_manage_users(actor):
        raise PermissionDenied()
    _check_password_strength(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_sessions(user, actor=actor)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """The user's own change: the other sessions end, the caller logs the current one in again."""
    if not verify_password(user.password_hash, current_password):
        raise ValidationError(_l("The current password is wrong."), field="current_password")
    _check_password_strength(new_password, "new_password")
    if new_password == current_password:
        raise ValidationError(_l("The new password must differ from the current one."), field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_sessions(user, actor=user)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Unknown language."), field="locale")
    user.locale = locale
    db.session.flush()


def issue_token(user: User) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        token_hash=ApiToken.hash(token),
        expires_at=utcnow() + current_app.config["API_TOKEN_TTL"],
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def user_for_token(token: str) -> User | None:
    """The active user behind an unexpired, unrevoked token, else None."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row.user if row.user.active else None
