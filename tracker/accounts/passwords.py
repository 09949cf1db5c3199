"""Argon2id password hashing (argon2-cffi defaults: RFC 9106 low-memory profile).

``ARGON2_PARAMS`` in the config may lower the cost, which only the test suite does, so a
hundred test logins do not each spend a third of a second hashing.
"""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_DEFAULT = PasswordHasher()


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS") if has_app_context() else None
    if not params:
        return _DEFAULT
    cache = current_app.extensions.setdefault("tracker_argon2", {})
    key = tuple(sorted(params.items()))
    if key not in cache:
        cache[key] = PasswordHasher(**params)
    return cache[key]


def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified when the username is unknown, so a miss costs as long as a wrong password.
    if not hasattr(hasher, "_tracker_dummy"):
        hasher._tracker_dummy = hasher.hash("not-a-real-password")
    return hasher._tracker_dummy


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
