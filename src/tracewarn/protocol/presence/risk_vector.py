"""CWA's client-side transmission-risk vectors (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

Pure CWA logic shared by every client (the virtual device uses it when it reports).

A positive person's app picks a 15-entry vector from their symptom answer; entry i is the TRL of
day "today - i". It sets each check-in's TRL (CWA event registration [docs/specifications.md#cwa-events]). Keys carry days since onset instead and the
server derives their TRL (CWA risk calculation v2 [docs/specifications.md#cwa-risk], "Upload -> server").
"""

from __future__ import annotations

from enum import Enum

__all__ = ["SymptomAnswer", "transmission_risk_vector"]

# The "onset on a specific date" row: vector_d[i] = _ONSET[i + 7 - d] (1 outside), d = 0..20.
# d = 0 gives 8,8,7,6,4,2,1..., d = 1 gives 8,8,8,7,6,4,2,1..., d = 2 gives 6,8,8,8,7,6,4,2,1...
_ONSET = (1, 2, 2, 3, 5, 6, 8, 8, 8, 7, 6, 4, 2, 1)
_FIXED = {
    "within_7_days": (4, 5, 6, 7, 7, 7, 6, 5, 4, 3, 2, 1, 1, 1, 1),
    "one_to_two_weeks": (1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 6, 6, 4),
    "more_than_two_weeks": (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5),
    "positive_no_date": (5, 6, 8, 8, 8, 7, 5, 3, 2, 1, 1, 1, 1, 1, 1),
    "no_symptoms": (4, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    "no_information": (5, 6, 7, 7, 7, 6, 4, 3, 2, 1, 1, 1, 1, 1, 1),
}


class SymptomAnswer(Enum):
    ONSET_DATE = "onset_date"
    WITHIN_7_DAYS = "within_7_days"
    ONE_TO_TWO_WEEKS = "one_to_two_weeks"
    MORE_THAN_TWO_WEEKS = "more_than_two_weeks"
    POSITIVE_NO_DATE = "positive_no_date"
    NO_SYMPTOMS = "no_symptoms"
    NO_INFORMATION = "no_information"


def transmission_risk_vector(
    answer: SymptomAnswer, days_since_onset: int | None = None
) -> tuple[int, ...]:
    """The 15-entry TRL vector (index 0 = today) for a symptom answer."""
    if answer is not SymptomAnswer.ONSET_DATE:
        return _FIXED[answer.value]
    if days_since_onset is None:
        raise ValueError("an onset date answer needs the days since onset")
    d = days_since_onset
    if not 0 <= d <= 20:
        return (1,) * 15
    return tuple(_ONSET[i + 7 - d] if 0 <= i + 7 - d < len(_ONSET) else 1 for i in range(15))
