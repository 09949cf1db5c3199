"""Login throttling shared by every worker process: Redis when REDIS_URL is set, else the database.

Failures are counted per key (the account and the client address) inside a window; past the
limit the key is locked for a while. A successful login resets the account's key.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from tracker.accounts.models import LoginThrottle
from tracker.core.database import utcnow
from tracker.extensions import db


@dataclass(frozen=True)
class Lock:
    until: datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - utcnow()).total_seconds()))


class DatabaseThrottle:
    def locked(self, key: str) -> Lock | None:
        row = db.session.get(LoginThrottle, key)
        if row and row.locked_until and row.locked_until > utcnow():
            return Lock(row.locked_until)
        return None

    def fail(self, key: str, limit: int, window: timedelta, lockout: timedelta) -> None:
        now = utcnow()
        row = db.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            db.session.add(row)
        if row.window_started_at + window < now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + lockout
        db.session.flush()

    def reset(self, key: str) -> None:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


class RedisThrottle:
    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)

    def locked(self, key: str) -> Lock | None:
        ttl = self._redis.pttl(f"tracker:lock:{key}")
        if ttl and ttl > 0:
            return Lock(utcnow() + timedelta(milliseconds=ttl))
        return None

    def fail(self, key: str, limit: int, window: timedelta, lockout: timedelta) -> None:
        counter = f"tracker:fail:{key}"
        pipe = self._redis.pipeline()
        pipe.incr(counter)
        pipe.expire(counter, int(window.total_seconds()), nx=True)
        failures, _ = pipe.execute()
        if failures >= limit:
            self._redis.set(f"tracker:lock:{key}", 1, px=int(lockout.total_seconds() * 1000))
            self._redis.delete(counter)

    def reset(self, key: str) -> None:
        self._redis.delete(f"tracker:fail:{key}", f"tracker:lock:{key}")


def get_throttle():
    url = current_app.config.get("REDIS_URL")
    if url:
        throttle = current_app.extensions.get("tracker_redis_throttle")
        if throttle is None:
            throttle = current_app.extensions["tracker_redis_throttle"] = RedisThrottle(url)
        return throttle
    return DatabaseThrottle()


def throttle_keys(username: str, address: str | None):
    """(key, limit) pairs checked on every login attempt."""
    config = current_app.config
    keys = [(f"user:{username.strip().lower()}", config["LOGIN_MAX_FAILURES"])]
    if address:
        keys.append((f"addr:{address}", config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    return keys
