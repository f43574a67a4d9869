"""Fake check-ins as request padding (CWA event registration [docs/specifications.md#cwa-events]), driven by caller randomness."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.presence import (
    CWA_PLAUSIBLE_DENIABILITY,
    DEFAULT_PLAUSIBLE_DENIABILITY,
    FakeCountParameters,
    PlausibleDeniabilityParameters,
    encrypt_check_in_record,
    fake_check_in_count,
    fake_check_in_padding,
)
from tracewarn.protocol.presence.padding import REPORT_WIRE_SIZE
from tracewarn.protocol.presence.report import CheckInRecord
from tracewarn.protocol.proto import submission_pb2

ALWAYS = replace(DEFAULT_PLAUSIBLE_DENIABILITY, probability_if_some_check_ins=1.0)


def test_formula_with_cwa_defaults() -> None:
    params = FakeCountParameters()
    assert params.count(1.5) == pytest.approx(100)
    assert params.count(-3.0) == pytest.approx(100 * 1.4 ** (-((0.8 * -4.5) ** 2)))
    assert params.count(1.5 + 1 / 0.8) == pytest.approx(100 / 1.4)


def test_no_check_ins_never_pads() -> None:
    for seed in range(200):
        assert fake_check_in_padding(random.Random(seed).randbytes, has_check_ins=False) == b""


def test_some_check_ins_pad_rarely() -> None:
    padded = [
        fake_check_in_padding(random.Random(seed).randbytes, has_check_ins=True)
        for seed in range(4000)
    ]
    hits = [p for p in padded if p]
    # Probability 0.005: about 20 of 4,000 seeded draws (deterministic for these seeds).
    assert 5 <= len(hits) <= 50
    assert all(len(p) % REPORT_WIRE_SIZE == 0 for p in hits)


def test_padding_size_is_a_whole_number_of_fakes() -> None:
    for seed in range(50):
        source = random.Random(seed).randbytes
        padding = fake_check_in_padding(source, has_check_ins=True, params=ALWAYS)
        count = fake_check_in_count(random.Random(seed).randbytes, ALWAYS)
        assert len(padding) % REPORT_WIRE_SIZE == 0
        assert 0 <= len(padding) // REPORT_WIRE_SIZE <= 100
        assert count <= 100


def test_counts_follow_the_formula_shape() -> None:
    counts = [fake_check_in_count(random.Random(s).randbytes) for s in range(2000)]
    # For x ~ N(0, 1), E[100 exp(-k (x - 1.5)^2)] with k = 0.64 ln 1.4 has the closed form
    # 100 / sqrt(1 + 2k) * exp(-2.25 k / (1 + 2k)), about 59.6; 2,000 draws land within +-3.
    k = 0.64 * math.log(1.4)
    expected = 100 / math.sqrt(1 + 2 * k) * math.exp(-2.25 * k / (1 + 2 * k))
    assert abs(sum(counts) / len(counts) - expected) < 3
    assert max(counts) <= 100


def test_cwa_sizes_keep_46_bytes() -> None:
    params = replace(CWA_PLAUSIBLE_DENIABILITY, probability_if_some_check_ins=1.0)
    padding = fake_check_in_padding(random.Random(3).randbytes, has_check_ins=True, params=params)
    assert padding and len(padding) % 46 == 0


def test_default_fake_size_equals_a_real_report_in_a_submission() -> None:
    lid = bytes(32)
    report = encrypt_check_in_record(lid, CheckInRecord(2_900_000, 15, 8), bytes(16))
    one = submission_pb2.SubmissionPayload(checkInProtectedReports=[report.to_message()])
    assert len(one.SerializeToString()) == REPORT_WIRE_SIZE


def test_bad_parameters() -> None:
    with pytest.raises(ConfigurationError):
        PlausibleDeniabilityParameters(check_in_sizes_bytes=())
    with pytest.raises(ConfigurationError):
        PlausibleDeniabilityParameters(probability_if_some_check_ins=1.5)
    weird = FakeCountParameters(u=0.5)  # negative base to a fractional power
    assert weird.count(-10.0) == 0.0
    assert (
        fake_check_in_count(random.Random(1).randbytes, replace(ALWAYS, count_parameters=())) == 0
    )
