"""Matching configuration: the GAEN time rules and the ENF diagnosis-key data mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.exposure_window import Infectiousness, ReportType

__all__ = ["CWA_INFECTIOUSNESS_FOR_DSOS", "MatchingConfig"]

CWA_INFECTIOUSNESS_FOR_DSOS: Mapping[int, Infectiousness] = MappingProxyType(
    {1: Infectiousness.STANDARD, 2: Infectiousness.HIGH}
)
"""CWA's `diagnosis-keys-data-mapping.yaml` (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): the CDN re-encodes
every key's TRL into DSOS 1 (odd TRL) or 2 (even TRL), GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto]."""


@dataclass(frozen=True)
class MatchingConfig:
    """How keys are matched and what a match carries.

    * `tolerance_intervals`: an RPI of interval j matches a sighting in interval i when
      |i - j| <= this; 12 ten-minute intervals are GAEN's +/- 2 hours.
    * `retention_days`: keys whose validity ended before UTC midnight this many days before
      today are ignored (GAEN keeps 14 days).
    * `max_future_intervals`: a key starting later than now + this is rejected as absurd.
    * `infectiousness_for_dsos` / `infectiousness_when_dsos_missing`: the ENF
      `DiagnosisKeysDataMapping`; days since onset not in the mapping give NONE, as in ENF.
    * `report_type_when_missing`: applied to keys with no report type or UNKNOWN (0).
    * `ignore_none_infectiousness`, `ignore_revoked`: ENF drops keys with infectiousness NONE
      and REVOKED keys; both are counted in the result's stats, never silently lost.
    """

    tolerance_intervals: int = 12
    retention_days: int = 14
    max_future_intervals: int = 144
    infectiousness_for_dsos: Mapping[int, Infectiousness] = field(
        default_factory=lambda: CWA_INFECTIOUSNESS_FOR_DSOS
    )
    infectiousness_when_dsos_missing: Infectiousness = Infectiousness.NONE
    report_type_when_missing: ReportType = ReportType.CONFIRMED_TEST
    ignore_none_infectiousness: bool = True
    ignore_revoked: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.tolerance_intervals <= 144:
            raise ConfigurationError("tolerance_intervals must be 0..144")
        if not 1 <= self.retention_days <= 365:
            raise ConfigurationError("retention_days must be 1..365")
        if not 0 <= self.max_future_intervals <= 144 * 365:
            raise ConfigurationError("max_future_intervals must be 0..52560")
        if self.report_type_when_missing in (ReportType.UNKNOWN, ReportType.REVOKED):
            raise ConfigurationError("report_type_when_missing must be a real report type")
        try:
            frozen = {
                int(k): Infectiousness(v) for k, v in dict(self.infectiousness_for_dsos).items()
            }
            Infectiousness(self.infectiousness_when_dsos_missing)
            ReportType(self.report_type_when_missing)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"invalid infectiousness or report type mapping: {exc}"
            ) from None
        object.__setattr__(self, "infectiousness_for_dsos", MappingProxyType(frozen))
