"""Turning a positive person's check-ins into the shuffled encrypted reports they upload.

CWA event registration [docs/specifications.md#cwa-events] (CheckInsTransformer): derive each check-in's interval (CWA event registration [docs/specifications.md#cwa-events]), split it at UTC midnight,
give each part its TRL from the transmission-risk vector, drop parts whose TRV is 0, encrypt each
part (CWA event registration [docs/specifications.md#cwa-events]) under its own random iv, and shuffle the list so the order reveals nothing about the
order of the visits. Randomness comes from the caller (`random_bytes(n) -> bytes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tracewarn.protocol.presence._random import RandomBytes, draw, shuffle
from tracewarn.protocol.presence.checkin import CheckIn
from tracewarn.protocol.presence.derivation import (
    CWA_SUBMISSION_PARAMETERS,
    CWA_TRANSMISSION_RISK_VALUES,
    INTERVAL_SECONDS,
    SubmissionParameters,
    derive_time_interval,
    split_at_utc_midnight,
    transmission_risk_level,
    transmission_risk_value,
)
from tracewarn.protocol.presence.report import (
    IV_LENGTH,
    CheckInRecord,
    ProtectedReport,
    encrypt_check_in_record,
)

__all__ = ["SubmittedPart", "check_in_reports", "submission_parts"]


@dataclass(frozen=True, slots=True)
class SubmittedPart:
    """One record to encrypt: which location it is for and what it says."""

    location_id: bytes
    record: CheckInRecord


def submission_parts(
    check_ins: Iterable[CheckIn],
    now: int,
    transmission_risk_vector: Sequence[int],
    *,
    params: SubmissionParameters = CWA_SUBMISSION_PARAMETERS,
    trv_mapping: Mapping[int, float] = CWA_TRANSMISSION_RISK_VALUES,
) -> list[SubmittedPart]:
    """The plaintext records a submission carries, in check-in order (CWA event registration [docs/specifications.md#cwa-events]).

    A check-in still open at `now` counts up to `now`: a person cannot report time not yet spent.
    """
    parts = []
    for check_in in check_ins:
        end = min(check_in.end, now)
        if end <= check_in.start:
            continue
        derived = derive_time_interval(check_in.start, end, params)
        if derived is None:
            continue
        for part_start, part_end in split_at_utc_midnight(*derived):
            level = transmission_risk_level(part_start, now, transmission_risk_vector)
            if transmission_risk_value(level, trv_mapping) == 0:
                continue
            record = CheckInRecord(
                start_interval_number=part_start // INTERVAL_SECONDS,
                period=(part_end - part_start) // INTERVAL_SECONDS,
                transmission_risk_level=level,
            )
            parts.append(SubmittedPart(check_in.location_id, record))
    return parts


def check_in_reports(
    check_ins: Iterable[CheckIn],
    now: int,
    transmission_risk_vector: Sequence[int],
    random_bytes: RandomBytes,
    *,
    params: SubmissionParameters = CWA_SUBMISSION_PARAMETERS,
    trv_mapping: Mapping[int, float] = CWA_TRANSMISSION_RISK_VALUES,
) -> list[ProtectedReport]:
    """Encrypted, shuffled `CheckInProtectedReport`s for a submission (CWA event registration [docs/specifications.md#cwa-events])."""
    reports = [
        encrypt_check_in_record(part.location_id, part.record, draw(random_bytes, IV_LENGTH))
        for part in submission_parts(
            check_ins, now, transmission_risk_vector, params=params, trv_mapping=trv_mapping
        )
    ]
    shuffle(reports, random_bytes)
    return reports
