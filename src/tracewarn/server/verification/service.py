"""Verification: lab results and codes -> registration token -> TAN; teleTANs for hotlines.

Follows the CWA verification server [docs/specifications.md#cwa-verification]: one registration token per
code or teleTAN, a fixed number of TANs per token (default 1), TANs single use. Every secret is
looked up and stored as an HMAC under the server secret (`SecretBox.mac`).
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracewarn.protocol.verification import (
    GUID_RANDOM_BYTES,
    TELETAN_RANDOM_BYTES,
    UUID_RANDOM_BYTES,
    hash_test_guid,
    is_hashed_guid,
    is_teletan,
    is_uuid4,
    make_teletan,
    make_test_guid,
    make_uuid4,
)
from tracewarn.server.context import ServerContext
from tracewarn.server.models import ApiKey, RegistrationToken, Tan, TeleTan, TestCode
from tracewarn.server.problems import Problem

__all__ = [
    "POSITIVE_RESULTS",
    "TanKind",
    "TestResult",
    "authenticate_api_key",
    "coarse_time",
    "create_api_key",
    "create_teletan",
    "issue_tan",
    "redeem_tan",
    "register",
    "report_lab_result",
    "test_result_of",
]


class TestResult(enum.IntEnum):
    """CWA test result codes (A: `coronatest/server/CoronaTestResult.kt`)."""

    __test__ = False
    PCR_OR_RAT_PENDING = 0
    PCR_NEGATIVE = 1
    PCR_POSITIVE = 2
    PCR_INVALID = 3
    PCR_OR_RAT_REDEEMED = 4
    RAT_PENDING = 5
    RAT_NEGATIVE = 6
    RAT_POSITIVE = 7
    RAT_INVALID = 8
    RAT_REDEEMED = 9


POSITIVE_RESULTS = frozenset({TestResult.PCR_POSITIVE, TestResult.RAT_POSITIVE})
_LAB_RESULTS = {
    ("pcr", "pending"): TestResult.PCR_OR_RAT_PENDING,
    ("pcr", "negative"): TestResult.PCR_NEGATIVE,
    ("pcr", "positive"): TestResult.PCR_POSITIVE,
    ("pcr", "invalid"): TestResult.PCR_INVALID,
    ("rat", "pending"): TestResult.RAT_PENDING,
    ("rat", "negative"): TestResult.RAT_NEGATIVE,
    ("rat", "positive"): TestResult.RAT_POSITIVE,
    ("rat", "invalid"): TestResult.RAT_INVALID,
}


def coarse_time(now: int, *, lifetime: float = 0.0) -> int:
    """`now` (+ `lifetime` seconds) rounded to the hour: down for a creation time, up for an
    expiry. Stored times then say at most which hour something happened, never the second that
    would line up a code's redemption with a token's creation or a TAN with an upload."""
    if lifetime <= 0:
        return now - now % 3600
    return -(-(now + int(lifetime)) // 3600) * 3600


class TanKind(enum.StrEnum):
    SUBMISSION = "submission"
    HOST_WARNING = "host_warning"


_REDEEMED = {"guid_pcr": TestResult.PCR_OR_RAT_REDEEMED, "guid_rat": TestResult.RAT_REDEEMED}
# "tw_" and 6 hex digits: enough to tell a handful of keys apart, too little to guess the rest.
API_KEY_PREFIX_LENGTH = 9


def create_api_key(session: Session, ctx: ServerContext, *, kind: str, label: str) -> str:
    """A new API key of `kind` (`lab` or `hotline`); returned once, stored only as an HMAC."""
    if kind not in {"lab", "hotline"}:
        raise ValueError("API key kind is 'lab' or 'hotline'")
    if not label.strip():
        raise ValueError("an API key needs a label saying who holds it")
    secret = "tw_" + ctx.random_bytes(24).hex()
    session.add(
        ApiKey(
            key_hmac=ctx.box.mac("api-key", secret),
            kind=kind,
            label=label.strip()[:100],
            created_at=coarse_time(ctx.now()),
            revoked=False,
            key_prefix=secret[:API_KEY_PREFIX_LENGTH],
        )
    )
    return secret


def authenticate_api_key(
    session: Session, ctx: ServerContext, *, api_key: str | None, kind: str
) -> None:
    if not api_key or len(api_key) > 200:
        raise Problem(
            401,
            "unauthorized",
            "an X-API-Key header is required",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    digest = ctx.box.mac("api-key", api_key)
    row = session.scalars(sa.select(ApiKey).where(ApiKey.key_hmac == digest)).first()
    if row is None or row.revoked or not ctx.box.same(row.key_hmac, digest):
        raise Problem(
            401,
            "unauthorized",
            "unknown or revoked API key",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    if row.kind != kind:
        raise Problem(403, "forbidden", f"this endpoint needs a {kind} API key")


def report_lab_result(
    session: Session, ctx: ServerContext, *, test_type: str, result: str, code: str | None
) -> tuple[str, TestResult, int]:
    """Store a lab result; a new test GUID unless `code` names an earlier, unexpired one."""
    value = _LAB_RESULTS[(test_type, result)]
    now = ctx.now()
    if code is not None:
        try:
            digest = ctx.box.mac("guid", hash_test_guid(code))
        except ValueError:
            raise Problem(400, "code-invalid", "code is not a test GUID") from None
        row = session.scalars(sa.select(TestCode).where(TestCode.code_hmac == digest)).first()
        if row is None or row.expires_at <= now:
            raise Problem(404, "code-not-found", "no unexpired test with this code")
        row.test_result = int(value)
        return code, value, row.expires_at
    guid = make_test_guid(ctx.random_bytes(GUID_RANDOM_BYTES))
    expires = coarse_time(now, lifetime=ctx.settings.code_lifetime_hours * 3600)
    session.add(
        TestCode(
            code_hmac=ctx.box.mac("guid", hash_test_guid(guid)),
            test_result=int(value),
            created_at=coarse_time(now),
            expires_at=expires,
            redeemed=False,
        )
    )
    return guid, value, expires


def create_teletan(session: Session, ctx: ServerContext, *, event: bool) -> tuple[str, int]:
    """A teleTAN for a hotline (1 h) or, with `event`, a host-warning teleTAN (2 days)."""
    now = ctx.now()
    recent = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(TeleTan)
            .where(TeleTan.created_at >= coarse_time(now))
        )
        or 0
    )
    if recent >= ctx.settings.teletans_per_hour:
        raise Problem(
            429,
            "teletan-quota",
            "the hourly teleTAN quota is used up",
            headers={"Retry-After": "3600"},
        )
    teletan = make_teletan(ctx.random_bytes(TELETAN_RANDOM_BYTES))
    lifetime = (
        ctx.settings.event_teletan_lifetime_hours * 3600
        if event
        else ctx.settings.teletan_lifetime_minutes * 60
    )
    expires = coarse_time(now, lifetime=lifetime)
    session.add(
        TeleTan(
            teletan_hmac=ctx.box.mac("teletan", teletan),
            kind="event" if event else "test",
            created_at=coarse_time(now),
            expires_at=expires,
        )
    )
    return teletan, expires


def register(session: Session, ctx: ServerContext, *, key_type: str, key: str) -> str:
    """Exchange a hashed test GUID or a teleTAN for a registration token (once per code)."""
    now = ctx.now()
    if key_type == "GUID":
        if not is_hashed_guid(key):
            raise Problem(
                400, "code-invalid", "key must be the SHA-256 of the test GUID as 64 hex characters"
            )
        digest = ctx.box.mac("guid", key.lower())
        code = session.scalars(
            sa.select(TestCode).where(TestCode.code_hmac == digest).with_for_update()
        ).first()
        if code is None or not ctx.box.same(code.code_hmac, digest):
            raise Problem(400, "code-invalid", "unknown code")
        if code.expires_at <= now:
            raise Problem(400, "code-expired", "the code has expired")
        if code.redeemed:
            raise Problem(400, "code-redeemed", "the code was already used")
        code.redeemed = True
        return _new_token(session, ctx, key_type="guid", test_code_id=code.id, now=now)
    if not is_teletan(key):
        raise Problem(
            400, "teletan-invalid", "not a teleTAN (10 characters, alphabet and check character)"
        )
    digest = ctx.box.mac("teletan", key)
    row = session.scalars(sa.select(TeleTan).where(TeleTan.teletan_hmac == digest)).first()
    if row is None or not ctx.box.same(row.teletan_hmac, digest):
        raise Problem(400, "teletan-invalid", "unknown or already used teleTAN")
    deleted = session.execute(sa.delete(TeleTan).where(TeleTan.id == row.id)).rowcount  # type: ignore[attr-defined]
    if row.expires_at <= now or deleted != 1:
        raise Problem(400, "teletan-expired", "the teleTAN has expired or was used")
    return _new_token(
        session,
        ctx,
        key_type="event_teletan" if row.kind == "event" else "teletan",
        test_code_id=None,
        now=now,
    )


def _new_token(
    session: Session, ctx: ServerContext, *, key_type: str, test_code_id: int | None, now: int
) -> str:
    token = make_uuid4(ctx.random_bytes(UUID_RANDOM_BYTES))
    expires = coarse_time(now, lifetime=ctx.settings.registration_token_lifetime_days * 86400)
    session.add(
        RegistrationToken(
            token_hmac=ctx.box.mac("token", token),
            key_type=key_type,
            test_code_id=test_code_id,
            tans_issued=0,
            created_at=coarse_time(now),
            expires_at=expires,
        )
    )
    return token


def _token_row(
    session: Session, ctx: ServerContext, token: str, *, lock: bool
) -> RegistrationToken:
    if not is_uuid4(token):
        raise Problem(400, "token-invalid", "registrationToken must be a UUID v4")
    digest = ctx.box.mac("token", token)
    query = sa.select(RegistrationToken).where(RegistrationToken.token_hmac == digest)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None or not ctx.box.same(row.token_hmac, digest) or row.expires_at <= ctx.now():
        raise Problem(403, "token-unknown", "unknown or expired registration token")
    return row


def test_result_of(session: Session, ctx: ServerContext, *, token: str) -> TestResult:
    """The current result behind a registration token; teleTAN registrations count as positive."""
    row = _token_row(session, ctx, token, lock=False)
    if row.key_type in _REDEEMED:
        # The link to the test was cleared when the TAN was issued (see `issue_tan`).
        return _REDEEMED[row.key_type]
    if row.test_code_id is None:
        return TestResult.PCR_POSITIVE
    code = session.get(TestCode, row.test_code_id)
    if code is None:
        raise Problem(403, "token-unknown", "the test behind this token has been deleted")
    if row.tans_issued >= ctx.settings.tans_per_registration_token:
        return (
            TestResult.RAT_REDEEMED
            if code.test_result >= TestResult.RAT_PENDING
            else TestResult.PCR_OR_RAT_REDEEMED
        )
    return TestResult(code.test_result)


test_result_of.__test__ = False  # type: ignore[attr-defined]


def issue_tan(session: Session, ctx: ServerContext, *, token: str) -> str:
    """A TAN for a positive registration; a host-warning TAN for an event teleTAN."""
    row = _token_row(session, ctx, token, lock=True)
    if row.tans_issued >= ctx.settings.tans_per_registration_token:
        raise Problem(400, "tan-limit", "this registration token already received its TAN")
    if row.test_code_id is not None:
        code = session.get(TestCode, row.test_code_id)
        if code is None or code.test_result not in POSITIVE_RESULTS:
            raise Problem(400, "not-positive", "no positive test result for this registration")
        # Forget which test this token belongs to: from now on nothing in the database leads
        # from a lab's code to the token whose TAN uploads keys. What the result poll still
        # needs (PCR or RAT, for the REDEEMED code) is kept in the key type.
        row.key_type = "guid_rat" if code.test_result >= TestResult.RAT_PENDING else "guid_pcr"
        row.test_code_id = None
    row.tans_issued += 1
    kind = TanKind.HOST_WARNING if row.key_type == "event_teletan" else TanKind.SUBMISSION
    tan = make_uuid4(ctx.random_bytes(UUID_RANDOM_BYTES))
    now = ctx.now()
    session.add(
        Tan(
            tan_hmac=ctx.box.mac("tan", tan),
            kind=kind.value,
            created_at=coarse_time(now),
            expires_at=coarse_time(now, lifetime=ctx.settings.tan_lifetime_days * 86400),
        )
    )
    return tan


def redeem_tan(
    session: Session | Connection, ctx: ServerContext, *, tan: str, kind: TanKind
) -> bool:
    """Delete the TAN if it exists, is unexpired and of `kind`; True when it was redeemed now.

    A single DELETE decides, so two uploads racing with the same TAN cannot both win.
    """
    if not is_uuid4(tan):
        return False
    digest = ctx.box.mac("tan", tan)
    result = session.execute(
        sa.delete(Tan).where(
            Tan.tan_hmac == digest, Tan.kind == kind.value, Tan.expires_at > ctx.now()
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
