"""Which region's packages carry a key, once keys of other regions arrive (CWA's bucketing).

Corona-Warn-App server `DiagnosisKeyBundler` (EU Federation Gateway Service [docs/specifications.md#efgs]), adapted to a backend that
publishes packages for its home region and, optionally, for the regions its users visit:

- padding keys belong to the region they were made for;
- a local key (origin = home) goes to the home package, and with federation consent also to each
  visited region's package (unchanged local behaviour);
- a key from another region that lists the home region among its visited regions goes only to
  the home package (it concerns people here; national publishing rules apply to it);
- any other key from another region goes to each visited region this backend publishes;
- the federation-wide package (`federation_eur_package`, CWA's `EUR`) carries every real key.
"""

from __future__ import annotations

__all__ = ["publishes_in"]


def publishes_in(
    region: str,
    *,
    origin: str,
    visited: str,
    consent: bool,
    is_padding: bool,
    home: str,
    eur: str | None,
) -> bool:
    """True when the package of `region` carries a key with these fields."""
    if is_padding:
        return origin == region
    if eur is not None and region == eur:
        return True
    countries = visited.split(",") if visited else []
    if origin == home:
        return region == home or (consent and region in countries)
    if home in countries:
        return region == home
    return region in countries
