"""Validation of a CWA `SubmissionPayload`, as the CWA submission service does it.

Rules (CWA server [docs/specifications.md#cwa-server]; GAEN reference key server [docs/specifications.md#gaen-server]): 1..max keys, 16-byte key data,
start at UTC midnight, rolling period 1-144, TRL 1-8 or DSOS -14..4000 (the other derived),
origin empty or the home region, visited countries from the supported list, protected check-in
reports of exactly 32/16/16/32 bytes. Keys older than the retention window or from the future
are dropped, not rejected (CWA behaviour), unless that leaves nothing to store: then the upload
is rejected (400, the TAN stays valid) instead of being acknowledged and silently dropped.
Pure: the caller passes `now`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tracewarn.protocol.errors import SubmissionFormatError
from tracewarn.protocol.proto import export_pb2, submission_pb2

__all__ = [
    "HOST_WARNING",
    "AcceptedKey",
    "ProtectedReport",
    "SubmissionRules",
    "ValidSubmission",
    "dsos_from_trl",
    "trl_from_dsos",
    "validate_submission",
]

HOST_WARNING = submission_pb2.SubmissionPayload.SUBMISSION_TYPE_HOST_WARNING
_NORMAL_TYPES = frozenset(
    {
        submission_pb2.SubmissionPayload.SUBMISSION_TYPE_PCR_TEST,
        submission_pb2.SubmissionPayload.SUBMISSION_TYPE_RAPID_TEST,
    }
)
DSOS_MIN, DSOS_MAX = -14, 4000

# CWA `derivation-maps.yaml`: only the values the spec quotes; the rest of that table is not
# public in our sources, so unknown DSOS values fall back to CWA's default TRL 1.
_TRL_FROM_DSOS = {
    -5: 2,
    -4: 4,
    -3: 6,
    -2: 7,
    -1: 8,
    0: 8,
    1: 8,
    2: 6,
    3: 5,
    4: 3,
    5: 2,
    6: 2,
    1993: 3,
}
_DSOS_FROM_TRL = {1: 3986, 2: 3992, 3: 3993, 4: 3994, 5: 4000, 6: 3995, 7: 3996, 8: 3997}
_TRL_FROM_ENCODED_DSOS = {dsos: trl for trl, dsos in _DSOS_FROM_TRL.items()}


def trl_from_dsos(dsos: int) -> int:
    """Transmission risk level for a CWA DSOS value (`trl-from-dsos`; default 1)."""
    return _TRL_FROM_DSOS.get(dsos) or _TRL_FROM_ENCODED_DSOS.get(dsos, 1)


def dsos_from_trl(trl: int) -> int:
    """CWA `dsos-from-trl`: the encoded DSOS an old client's TRL stands for."""
    return _DSOS_FROM_TRL[trl]


@dataclass(frozen=True, slots=True)
class SubmissionRules:
    max_keys: int = 15
    key_max_age_days: int = 14
    home_region: str = "DE"
    countries: tuple[str, ...] = ("DE",)
    max_protected_reports: int = 20 * 15


@dataclass(frozen=True, slots=True)
class AcceptedKey:
    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int
    transmission_risk_level: int
    days_since_onset_of_symptoms: int


@dataclass(frozen=True, slots=True)
class ProtectedReport:
    location_id_hash: bytes
    iv: bytes
    encrypted_check_in_record: bytes
    mac: bytes


@dataclass(frozen=True, slots=True)
class ValidSubmission:
    keys: tuple[AcceptedKey, ...]
    dropped_keys: int
    visited_countries: tuple[str, ...]
    origin: str
    consent_to_federation: bool
    submission_type: int
    reports: tuple[ProtectedReport, ...]


def validate_submission(
    payload: submission_pb2.SubmissionPayload,
    *,
    now: int,
    rules: SubmissionRules,
    host_warning: bool = False,
) -> ValidSubmission:
    """Check `payload` and return what may be stored, or raise `SubmissionFormatError`."""
    if len(payload.keys) > rules.max_keys:
        raise SubmissionFormatError(
            f"at most {rules.max_keys} keys per submission, got {len(payload.keys)}"
        )
    submission_type = int(payload.submissionType)
    if host_warning:
        _check_host_warning(payload)
    elif submission_type not in _NORMAL_TYPES:
        raise SubmissionFormatError(
            "submissionType must be PCR_TEST or RAPID_TEST on this endpoint"
        )
    reports = _reports(payload, rules)
    _check_legacy_checkins(payload)
    if not payload.keys and not reports:
        raise SubmissionFormatError("a submission needs at least one key or check-in report")
    origin = _text(payload.origin, "origin") if payload.HasField("origin") else ""
    if origin not in ("", rules.home_region):
        raise SubmissionFormatError(f"origin must be empty or {rules.home_region}")
    countries = [_text(c, "visitedCountries") for c in payload.visitedCountries]
    visited = tuple(dict.fromkeys(countries)) or (rules.home_region,)
    unknown = [c for c in visited if c not in rules.countries]
    if unknown:
        # Names are repeated back only if they look like country codes: the detail must not
        # echo arbitrary client text.
        shown = [c if c.isascii() and c.isalpha() else "?" for c in sorted(unknown)[:5]]
        raise SubmissionFormatError(f"unsupported visited countries: {', '.join(shown)}")
    seen = Counter(k.key_data for k in payload.keys)
    if any(n > 1 for n in seen.values()):
        raise SubmissionFormatError("the same key_data appears twice")
    current = now // 600
    oldest = current - rules.key_max_age_days * 144
    keys: list[AcceptedKey] = []
    dropped = 0
    for index, key in enumerate(payload.keys):
        accepted = _key(index, key)
        end = accepted.rolling_start_interval_number + accepted.rolling_period
        if end <= oldest or accepted.rolling_start_interval_number > current:
            dropped += 1
            continue
        keys.append(accepted)
    if dropped and not keys and not reports:
        # Storing nothing would burn the TAN for an upload that cannot warn anyone; a 400 keeps
        # it, so the app can retry with its current keys.
        raise SubmissionFormatError(
            f"all {dropped} keys are outside the accepted window (the last "
            f"{rules.key_max_age_days} days up to now); nothing would be published"
        )
    return ValidSubmission(
        keys=tuple(keys),
        dropped_keys=dropped,
        visited_countries=visited,
        origin=origin or rules.home_region,
        consent_to_federation=bool(payload.consentToFederation),
        submission_type=submission_type,
        reports=reports,
    )


def _text(value: object, where: str) -> str:
    # proto2 `string` fields are not UTF-8 checked: the runtime hands back bytes it cannot decode.
    if not isinstance(value, str):
        raise SubmissionFormatError(f"{where} must be UTF-8 text")
    return value


def _key(index: int, key: export_pb2.TemporaryExposureKey) -> AcceptedKey:
    where = f"keys[{index}]"
    if len(key.key_data) != 16:
        raise SubmissionFormatError(f"{where}.key_data must be 16 bytes")
    rsin = key.rolling_start_interval_number
    if rsin <= 0 or rsin % 144:
        raise SubmissionFormatError(
            f"{where}.rolling_start_interval_number must be a positive multiple of 144 (UTC midnight)"
        )
    period = key.rolling_period if key.HasField("rolling_period") else 144
    if not 1 <= period <= 144:
        raise SubmissionFormatError(f"{where}.rolling_period must be 1..144")
    trl = key.transmission_risk_level if key.HasField("transmission_risk_level") else 0
    has_dsos = (
        key.HasField("days_since_onset_of_symptoms")
        and DSOS_MIN <= key.days_since_onset_of_symptoms <= DSOS_MAX
    )
    if has_dsos:
        dsos = key.days_since_onset_of_symptoms
        trl = trl_from_dsos(dsos)
    elif 1 <= trl <= 8:
        dsos = dsos_from_trl(trl)
    else:
        raise SubmissionFormatError(
            f"{where} needs transmission_risk_level 1..8 or days_since_onset_of_symptoms {DSOS_MIN}..{DSOS_MAX}"
        )
    return AcceptedKey(bytes(key.key_data), rsin, period, trl, dsos)


def _reports(
    payload: submission_pb2.SubmissionPayload, rules: SubmissionRules
) -> tuple[ProtectedReport, ...]:
    # The server cannot read encrypted reports, so only their sizes and count are enforced.
    if len(payload.checkInProtectedReports) > rules.max_protected_reports:
        raise SubmissionFormatError(
            f"at most {rules.max_protected_reports} check-in reports per submission"
        )
    out = []
    for index, report in enumerate(payload.checkInProtectedReports):
        sizes = (
            len(report.locationIdHash),
            len(report.iv),
            len(report.encryptedCheckInRecord),
            len(report.mac),
        )
        if sizes != (32, 16, 16, 32):
            raise SubmissionFormatError(
                f"checkInProtectedReports[{index}] field sizes must be 32/16/16/32 bytes, got {sizes}"
            )
        out.append(
            ProtectedReport(
                bytes(report.locationIdHash),
                bytes(report.iv),
                bytes(report.encryptedCheckInRecord),
                bytes(report.mac),
            )
        )
    return tuple(out)


def _check_legacy_checkins(payload: submission_pb2.SubmissionPayload) -> None:
    # Legacy unencrypted check-ins are validated as CWA does but never stored (CWA's default
    # `unencrypted-checkins-enabled: false`): they would tell the server where people were.
    for index, checkin in enumerate(payload.checkIns):
        if len(checkin.locationId) != 32:
            raise SubmissionFormatError(f"checkIns[{index}].locationId must be 32 bytes")
        if not 1 <= checkin.transmissionRiskLevel <= 8:
            raise SubmissionFormatError(f"checkIns[{index}].transmissionRiskLevel must be 1..8")
        if (
            checkin.startIntervalNumber <= 0
            or checkin.endIntervalNumber < checkin.startIntervalNumber
        ):
            raise SubmissionFormatError(
                f"checkIns[{index}] needs 0 < startIntervalNumber <= endIntervalNumber"
            )


def _check_host_warning(payload: submission_pb2.SubmissionPayload) -> None:
    """`ValidSubmissionOnBehalfPayload`: one venue, no keys, no federation (CWA event registration [docs/specifications.md#cwa-events])."""
    if payload.submissionType != HOST_WARNING:
        raise SubmissionFormatError("submissionType must be SUBMISSION_TYPE_HOST_WARNING")
    if payload.keys or payload.visitedCountries or payload.consentToFederation:
        raise SubmissionFormatError(
            "a host warning carries no keys, visited countries or federation consent"
        )
    if not payload.checkInProtectedReports:
        raise SubmissionFormatError("a host warning needs at least one check-in report")
    if len({bytes(r.locationIdHash) for r in payload.checkInProtectedReports}) != 1:
        raise SubmissionFormatError("all reports of a host warning must name one location")
    if len({bytes(c.locationId) for c in payload.checkIns}) > 1:
        raise SubmissionFormatError("all check-ins of a host warning must name one location")
