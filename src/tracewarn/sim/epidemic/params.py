"""Parameters of the population simulator and its two presets.

Names follow OpenABM-Covid19's `baseline_parameters.csv` where a parameter exists there (Hinch et
al., "OpenABM-Covid19", PLoS Comput Biol 17(7):e1009146, 2021; documentation/parameters/*.md), so
a value can be checked against the source by name. Per-age tuples have nine entries: ages 0-9,
10-19, ..., 70-79, 80+.

Presets:
- `openabm`: OpenABM-Covid19's current baseline values, with 80 % of symptomatic people
  self-isolating with their household, testing on symptoms, and app tracing on symptoms and on
  positive tests; app users by age = its smartphone-ownership fractions x the uptake scale.
- `tracewarn`: the same epidemic, but the app behaves like tracewarn/Corona-Warn-App: only a
  positive test (a TAN) lets a person upload, 60 % of positives consent (SwissCovid and CWA both
  measured about 60 %), keys are published in hourly packages and phones sync a few times a day.
- `openabm-april2020`: `openabm` with the NHSX report's April 2020 parameter set, lockdown,
  over-70s shielding and the app switched on at the end of lockdown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["PRESETS", "Params", "preset"]

AGE_GROUPS = 9
F9 = tuple[float, float, float, float, float, float, float, float, float]

# UK 2018 (ONS) age counts in thousands; only the proportions matter.
POPULATION_BY_AGE: F9 = (8054, 7528, 8712, 8835, 8500, 8968, 7069, 5488, 3281)
# UK household-size counts (thousands of households) for sizes 1..6.
HOUSEHOLD_SIZES = (7452, 9936, 4416, 4140, 1104, 552)
# OFCOM smartphone ownership by age: OpenABM's `app_users_fraction_*` defaults.
SMARTPHONE_BY_AGE: F9 = (0.09, 0.8, 0.97, 0.96, 0.94, 0.86, 0.7, 0.48, 0.32)


@dataclass(frozen=True, slots=True)
class Params:
    """Every knob of one run. Frozen: a run is a pure function of its parameters and seed."""

    population: int = 10_000
    days: int = 60
    seed: int = 1
    n_seed_infection: int = 10

    # Networks (OpenABM-Covid19 model [docs/specifications.md#openabm] names).
    mean_work_interactions_child: float = 10.0
    mean_work_interactions_adult: float = 7.0
    mean_work_interactions_elderly: float = 3.0
    daily_fraction_work: float = 0.5
    work_network_rewire: float = 0.1
    child_network_adults: float = 0.2
    elderly_network_adults: float = 0.2
    mean_random_interactions: tuple[float, float, float] = (2.0, 4.0, 3.0)  # child, adult, 70+
    sd_random_interactions: tuple[float, float, float] = (2.0, 4.0, 3.0)

    # Transmission.
    infectious_rate: float = 5.8
    mean_infectious_period: float = 5.5
    sd_infectious_period: float = 2.14
    relative_susceptibility: F9 = (0.35, 0.69, 1.03, 1.03, 1.03, 1.03, 1.27, 1.52, 1.52)
    relative_transmission_household: float = 2.0
    relative_transmission_occupation: float = 1.0
    relative_transmission_random: float = 1.0
    sd_infectiousness_multiplier: float = 1.4
    asymptomatic_infectious_factor: float = 0.33
    mild_infectious_factor: float = 0.72

    # Disease progression.
    fraction_asymptomatic: F9 = (0.456, 0.412, 0.370, 0.332, 0.296, 0.265, 0.238, 0.214, 0.192)
    mild_fraction: F9 = (0.533, 0.569, 0.597, 0.614, 0.616, 0.602, 0.571, 0.523, 0.461)
    hospitalised_fraction: F9 = (0.001, 0.006, 0.015, 0.069, 0.219, 0.279, 0.370, 0.391, 0.379)
    critical_fraction: F9 = (0.05, 0.05, 0.05, 0.05, 0.063, 0.122, 0.274, 0.432, 0.709)
    fatality_fraction: F9 = (0.33, 0.25, 0.5, 0.5, 0.5, 0.69, 0.65, 0.88, 1.0)
    mean_time_to_symptoms: float = 5.42
    sd_time_to_symptoms: float = 2.7
    mean_asymptomatic_to_recovery: float = 15.0
    sd_asymptomatic_to_recovery: float = 5.0
    mean_time_to_recover: float = 12.0
    sd_time_to_recover: float = 5.0
    mean_time_to_hospital: float = 5.14
    mean_time_to_critical: float = 2.27
    sd_time_to_critical: float = 2.27
    mean_time_hospitalised_recovery: float = 8.75
    sd_time_hospitalised_recovery: float = 8.75
    mean_time_to_death: float = 11.74
    sd_time_to_death: float = 8.79
    mean_time_critical_survive: float = 18.8
    sd_time_critical_survive: float = 12.21

    # Passive interventions and testing.
    self_quarantine_fraction: float = 0.8
    quarantine_length_self: int = 7
    quarantine_dropout_self: float = 0.02
    daily_non_cov_symptoms_rate: float = 0.002
    quarantine_household_on_symptoms: bool = True
    quarantine_household_on_positive: bool = True
    test_on_symptoms: bool = True
    test_on_symptoms_compliance: float = 0.8
    test_order_wait: int = 1
    test_result_wait: int = 1
    test_insensitive_period: int = 3
    test_sensitive_period: int = 14
    test_sensitivity: float = 0.8
    test_specificity: float = 0.999
    quarantine_length_positive: int = 14
    quarantine_dropout_positive: float = 0.01
    allow_clinical_diagnosis: bool = True

    # The app.
    app_users_fraction: F9 = SMARTPHONE_BY_AGE
    uptake_scale: float = 0.8
    trace_on_symptoms: bool = False
    trace_on_positive: bool = True
    upload_consent: float = 0.6
    tan_delay_hours: float = 2.0
    publication_delay_hours: float = 1.0  # hourly packages: at most one hour to the next one
    sync_delay_hours: float = 4.0  # phones download packages a few times a day
    lookback_days: int = 14  # keys uploaded and windows kept on the phone
    same_day_key_next_day: bool = True  # the upload day's key reaches phones the next day
    risk_config: str = "four-level"  # the phone's configuration: "four-level" or "cwa"
    # Probability that a warned person quarantines, per level index 1.. of the configuration's
    # scale (the last value repeats for higher levels). Correlated with other compliance.
    quarantine_compliance_by_level: tuple[float, ...] = (0.3, 0.6, 0.9)
    quarantine_length_traced: int = 10
    quarantine_dropout_traced: float = 0.03
    quarantine_household_on_traced: bool = False

    # Contact geometry for the radio model: median distance (m) and median duration (min).
    distance_m: tuple[float, float, float] = (1.5, 2.5, 3.0)  # household, occupation, random
    duration_min: tuple[float, float, float] = (60.0, 15.0, 5.0)

    # Presence tracing layer: daily visits to venues, train coaches (per coach and service day)
    # and checkpoints; app users with the habit check in by QR code.
    place_visit_probability: float = 0.2
    place_kind_share: tuple[float, float, float] = (0.5, 0.35, 0.15)  # venue, coach, checkpoint
    places_per_1000: tuple[float, float, float] = (10.0, 5.0, 2.0)
    place_minutes: tuple[float, float, float] = (60.0, 30.0, 15.0)
    place_transmission: tuple[float, float, float] = (1.0, 1.0, 0.5)  # per hour together
    check_in_probability: float = 0.7

    # Lockdown and shielding (Hinch et al.'s NHSX report; off by default). Lockdown starts the day
    # after cumulative infections reach `lockdown_trigger_fraction` of the population and lasts
    # `lockdown_days`; meanwhile work and random transmission are multiplied by their factors and
    # household transmission by its factor (OpenABM `lockdown_*_network_multiplier`). Afterwards
    # the over-70s keep `shield_elderly_multiplier` on their work and random contacts. The factors
    # scale transmission (lambda), not the contact lists the phones record, so diaries written
    # during lockdown or by shielded people hold more contacts than happened (a cheap
    # approximation: the app is off during lockdown and the 70+ hold few app users).
    lockdown_trigger_fraction: float = 0.0  # 0: no lockdown
    lockdown_days: int = 35
    lockdown_work_multiplier: float = 0.2
    lockdown_random_multiplier: float = 0.2
    lockdown_household_multiplier: float = 1.5
    shield_elderly_multiplier: float = 1.0
    app_on_after_lockdown: bool = False  # uploads (not diaries) start when lockdown ends

    def with_(self, **changes: Any) -> Params:
        """A copy with some values changed (unknown names are an error)."""
        return dataclasses.replace(self, **changes)

    def app_fraction_by_age(self) -> tuple[float, ...]:
        """Fraction of each age group with the app: by-age fractions x uptake scale, capped at 1."""
        return tuple(min(1.0, f * self.uptake_scale) for f in self.app_users_fraction)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


_OPENABM = Params(
    trace_on_symptoms=True,
    trace_on_positive=True,
    upload_consent=1.0,  # OpenABM: every app user who triggers is traced
    tan_delay_hours=0.0,
    publication_delay_hours=0.0,
    sync_delay_hours=0.0,
    lookback_days=7,  # `quarantine_days`: today and the 6 days before
    same_day_key_next_day=False,  # OpenABM traces instantly, today included
    # OpenABM's traced compliance is 0.5 (from symptoms) and 0.9 (from a positive test); the
    # levels stand for the same evidence strength here.
    quarantine_compliance_by_level=(0.5, 0.9, 0.9),
    quarantine_length_traced=14,
    quarantine_dropout_traced=0.03,
    place_visit_probability=0.0,  # OpenABM has no venues or check-ins
)

# tracewarn: fewer people act on symptoms alone than in the NHSX scenarios (half isolate, their
# households do not), so the effect of warnings is visible rather than masked by isolation.
_TRACEWARN = Params(
    self_quarantine_fraction=0.5,
    quarantine_household_on_symptoms=False,
    test_on_symptoms_compliance=0.5,
)

# The NHSX report's April 2020 parameter set (OpenABM-Covid19 repository covid-19_instant_tracing,
# "OpenABM-Covid19 parameters April 2020/Parameters_baseline.csv" and "Parameters_scenarios.csv"):
# its disease values, doubling time 3 days (`infectious_rate` 6.75, the uptake figures' caption),
# everyone warned quarantines (2 %/day drop-out) with the household (scenario S3), a 35-day
# lockdown at 1 % infected with over-70s shielded afterwards, and the app switched on at its end.
# The report's 80 % contact registration is not imposed: the radio model and the real risk
# scoring decide (docs/simulator.md).
_OPENABM_APRIL2020 = _OPENABM.with_(
    mean_infectious_period=6.0,
    sd_infectious_period=2.5,
    infectious_rate=6.75,
    mean_time_to_symptoms=6.0,
    sd_time_to_symptoms=2.5,
    fraction_asymptomatic=(0.18,) * AGE_GROUPS,
    mild_fraction=(0.79, 0.79, 0.73, 0.68, 0.65, 0.59, 0.53, 0.41, 0.27),
    asymptomatic_infectious_factor=0.29,
    mild_infectious_factor=0.48,
    relative_susceptibility=(0.71, 0.74, 0.79, 0.87, 0.98, 1.11, 1.26, 1.45, 1.66),
    hospitalised_fraction=(0.01, 0.03, 0.04, 0.06, 0.08, 0.12, 0.15, 0.16, 0.14),
    quarantine_dropout_self=0.02,
    quarantine_dropout_positive=0.02,
    quarantine_dropout_traced=0.02,
    quarantine_compliance_by_level=(1.0,),
    quarantine_household_on_traced=True,
    app_users_fraction=(0.0, 0.9, 0.96, 0.95, 0.91, 0.81, 0.64, 0.41, 0.27),
    lockdown_trigger_fraction=0.01,
    lockdown_days=35,
    shield_elderly_multiplier=0.2,
    app_on_after_lockdown=True,
)

PRESETS: dict[str, Params] = {
    "tracewarn": _TRACEWARN,
    "openabm": _OPENABM,
    "openabm-april2020": _OPENABM_APRIL2020,
}


def preset(name: str, **changes: Any) -> Params:
    """The named preset with `changes` applied."""
    return PRESETS[name].with_(**changes)
