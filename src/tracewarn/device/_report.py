"""Building what a positive device uploads, and the fake uploads that hide it.

The submission (CWA server [docs/specifications.md#cwa-server]) carries the device's keys of the last 14 days plus today's, each with
its days since symptom onset (or the TRL from the symptom answer's vector when no onset date is
known), and the check-ins turned into shuffled encrypted reports (CWA event registration [docs/specifications.md#cwa-events]). Its serialized size
is padded with `requestPadding` to a fixed total, so a real report, a fake one and a report with
fewer keys or check-ins all weigh the same on the wire. Only a person with an unusual number of
check-ins (more than about 60 in two weeks) needs the next size up; the sizes are powers of two
so even then they say little more than "many check-ins".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tracewarn.device.store import day_number
from tracewarn.protocol.gaen.keys import EKROLLING_PERIOD, TemporaryExposureKey
from tracewarn.protocol.presence import CheckIn, check_in_reports, fake_check_in_padding
from tracewarn.protocol.presence.risk_vector import SymptomAnswer, transmission_risk_vector
from tracewarn.protocol.proto import submission_pb2

__all__ = ["SUBMISSION_SIZE", "SUBMISSION_SIZES", "build_submission", "fake_submission"]

SUBMISSION_SIZE = 8192
SUBMISSION_SIZES = (8192, 16384, 32768, 65536)
# Size of a typical real payload before padding: 15 keys and a dozen check-in reports.
_TYPICAL_BASE = 15 * 40 + 12 * 107
MAX_UPLOADED_KEYS = 15


def build_submission(
    teks: Sequence[TemporaryExposureKey],
    check_ins: Sequence[CheckIn],
    *,
    now: int,
    answer: SymptomAnswer,
    onset_day: int | None,
    region: str,
    random_bytes: Callable[[int], bytes],
    consent_to_federation: bool = False,
) -> bytes:
    """Serialized, padded `SubmissionPayload` of a positive device.

    `consent_to_federation`: the user agreed that their keys also go to other regions' backends
    (through the federation gateway); without it they stay in the home region."""
    today = day_number(now)
    days_since_onset = None if onset_day is None else today - onset_day
    vector = transmission_risk_vector(answer, days_since_onset)
    payload = submission_pb2.SubmissionPayload()
    recent = [t for t in teks if today - t.rolling_start_interval_number // EKROLLING_PERIOD < 15]
    for tek in sorted(recent, key=lambda t: -t.rolling_start_interval_number)[:MAX_UPLOADED_KEYS]:
        key = payload.keys.add()
        key.key_data = tek.key_data
        key.rolling_start_interval_number = tek.rolling_start_interval_number
        key.rolling_period = tek.rolling_period
        age = today - tek.rolling_start_interval_number // EKROLLING_PERIOD
        key.transmission_risk_level = vector[age] if 0 <= age < len(vector) else 1
        if onset_day is not None:
            dsos = tek.rolling_start_interval_number // EKROLLING_PERIOD - onset_day
            if -14 <= dsos <= 14:
                key.days_since_onset_of_symptoms = dsos
    payload.origin = region
    payload.consentToFederation = consent_to_federation
    payload.submissionType = submission_pb2.SubmissionPayload.SUBMISSION_TYPE_PCR_TEST
    for report in check_in_reports(check_ins, now, vector, random_bytes):
        payload.checkInProtectedReports.append(report.to_message())
    fake_check_ins = fake_check_in_padding(random_bytes, has_check_ins=bool(check_ins))
    return _pad(payload, fake_check_ins)


def fake_submission(random_bytes: Callable[[int], bytes]) -> bytes:
    """Random bytes sized like a real submission.

    A real upload occasionally carries CWA's fake check-in padding (CWA event registration [docs/specifications.md#cwa-events]), which can push it into
    the next size bucket; a fake draws the same padding, so its size follows the same law.
    """
    extra = fake_check_in_padding(random_bytes, has_check_ins=True)
    size = next((s for s in SUBMISSION_SIZES if s >= _TYPICAL_BASE + len(extra)), SUBMISSION_SIZE)
    return random_bytes(size)


def _pad(payload: submission_pb2.SubmissionPayload, extra: bytes) -> bytes:
    payload.requestPadding = extra
    base = payload.ByteSize()
    target = next((size for size in SUBMISSION_SIZES if size >= base + 4), None)
    if target is None:  # beyond the server's request limit anyway; sent as is
        return payload.SerializeToString()
    # Field 2's tag and length take 1 + (2 or 3) bytes; trim until the total is exact.
    payload.requestPadding = extra + bytes(target - base)
    while payload.ByteSize() > target:
        payload.requestPadding = payload.requestPadding[:-1]
    return payload.SerializeToString()
