"""Portal accounts and sessions: Argon2 password hashes, session cookies, CSRF tokens.

Theory of operation: staff accounts are made on the server's command line (`tracewarn server
create-user`); the database keeps the username, the role and an Argon2id hash (argon2-cffi's
RFC 9106 low-memory profile), never a password. Signing in creates a random session token: the
browser holds it in a `Secure; HttpOnly; SameSite=Strict` cookie and the database only its HMAC
under the server secret, so a copy of the database cannot be used to take over a session.
Every form carries a CSRF token that is the HMAC of the session token: it needs no storage,
differs per session, and a page of another origin can neither read nor forge it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from tracewarn.server.context import ServerContext
from tracewarn.server.models import WebSession, WebUser

__all__ = [
    "COOKIE_NAME",
    "ROLES",
    "SESSION_SECONDS",
    "SignedIn",
    "create_user",
    "csrf_token",
    "csrf_valid",
    "hash_password",
    "session_user",
    "sign_in",
    "sign_out",
    "verify_password",
]

ROLES: Final = ("lab", "hotline", "admin")
COOKIE_NAME: Final = "tw_session"
SESSION_SECONDS: Final = 8 * 3600  # one working shift; staff sign in again the next day
MIN_PASSWORD_LENGTH: Final = 12
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_TOKEN_BYTES = 32
_hasher = PasswordHasher()
# Compared against when the username is unknown, so a wrong name costs as long as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH: Final = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a valid session belongs to."""

    user_id: int
    username: str
    role: str
    token: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, ctx: ServerContext, *, username: str, password: str, role: str
) -> WebUser:
    """A new portal account; ValueError naming the rule for a bad name, role or password."""
    if role not in ROLES:
        raise ValueError(f"role is one of {', '.join(ROLES)}, not {role!r}")
    if not _USERNAME.fullmatch(username):
        raise ValueError(
            "username is 2-64 characters of a-z 0-9 . _ - and starts with a letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    exists = session.scalar(sa.select(WebUser.id).where(WebUser.username == username))
    if exists is not None:
        raise ValueError(f"user {username!r} already exists")
    user = WebUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        created_at=ctx.now(),
        disabled=False,
    )
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, ctx: ServerContext, *, username: str, password: str) -> str | None:
    """A new session token for correct credentials of an enabled account, else None."""
    user = session.scalars(sa.select(WebUser).where(WebUser.username == username[:64])).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = ctx.now()
    # Expired sessions go whenever anyone signs in, so the table stays as small as the staff.
    session.execute(sa.delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        WebSession(
            token_hmac=ctx.box.mac("web-session", token),
            account_id=user.id,
            created_at=now,
            expires_at=now + SESSION_SECONDS,
        )
    )
    return token


def session_user(session: Session, ctx: ServerContext, token: str | None) -> SignedIn | None:
    """The enabled account behind an unexpired session token, else None."""
    if not token or len(token) > 100:
        return None
    digest = ctx.box.mac("web-session", token)
    row = session.scalars(sa.select(WebSession).where(WebSession.token_hmac == digest)).first()
    if row is None or not ctx.box.same(row.token_hmac, digest) or row.expires_at <= ctx.now():
        return None
    user = session.get(WebUser, row.account_id)
    if user is None or user.disabled:
        return None
    return SignedIn(user.id, user.username, user.role, token)


def sign_out(session: Session, ctx: ServerContext, token: str) -> None:
    session.execute(
        sa.delete(WebSession).where(WebSession.token_hmac == ctx.box.mac("web-session", token))
    )


def csrf_token(ctx: ServerContext, session_token: str) -> str:
    return ctx.box.mac("web-csrf", session_token).hex()


def csrf_valid(ctx: ServerContext, session_token: str, submitted: str | None) -> bool:
    if not submitted or len(submitted) != 64:
        return False
    return secrets.compare_digest(csrf_token(ctx, session_token), submitted)
