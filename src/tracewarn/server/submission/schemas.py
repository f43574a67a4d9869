"""The JSON form of a submission: the protobuf's fields in camelCase, bytes as base64."""

# ruff: noqa: N815 - JSON field names are the wire names of the CWA protocol

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tracewarn.protocol.errors import SubmissionFormatError
from tracewarn.protocol.proto import export_pb2, presence_pb2, submission_pb2

__all__ = ["SubmissionJSON", "inline_schema", "to_protobuf"]

_INT32 = 2**31 - 1


def _b64(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not standard base64") from None
    return value


B64 = Annotated[
    bytes, BeforeValidator(_b64), Field(json_schema_extra={"format": "byte", "type": "string"})
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyJSON(_Model):
    keyData: B64
    rollingStartIntervalNumber: int = Field(ge=0, le=_INT32)
    rollingPeriod: int = Field(default=144, ge=0, le=_INT32)
    transmissionRiskLevel: int | None = Field(default=None, ge=-_INT32, le=_INT32)
    daysSinceOnsetOfSymptoms: int | None = Field(default=None, ge=-_INT32, le=_INT32)


class ProtectedReportJSON(_Model):
    locationIdHash: B64
    iv: B64
    encryptedCheckInRecord: B64
    mac: B64


class SubmissionJSON(_Model):
    keys: list[KeyJSON] = Field(default_factory=list, max_length=1000)
    visitedCountries: list[Annotated[str, Field(max_length=3)]] = Field(
        default_factory=list, max_length=100
    )
    origin: str = Field(default="", max_length=3)
    consentToFederation: bool = False
    submissionType: int = Field(default=0, ge=0, le=9)
    checkInProtectedReports: list[ProtectedReportJSON] = Field(
        default_factory=list, max_length=1000
    )
    requestPadding: str = Field(default="", max_length=100_000)


def to_protobuf(body: SubmissionJSON) -> submission_pb2.SubmissionPayload:
    """The protobuf a device would have sent for the same content."""
    payload = submission_pb2.SubmissionPayload(
        visitedCountries=body.visitedCountries,
        consentToFederation=body.consentToFederation,
        submissionType=body.submissionType,  # type: ignore[arg-type]
    )
    if body.origin:
        payload.origin = body.origin
    for key in body.keys:
        message = export_pb2.TemporaryExposureKey(
            key_data=key.keyData,
            rolling_start_interval_number=key.rollingStartIntervalNumber,
            rolling_period=key.rollingPeriod,
        )
        if key.transmissionRiskLevel is not None:
            message.transmission_risk_level = key.transmissionRiskLevel
        if key.daysSinceOnsetOfSymptoms is not None:
            message.days_since_onset_of_symptoms = key.daysSinceOnsetOfSymptoms
        payload.keys.append(message)
    for report in body.checkInProtectedReports:
        payload.checkInProtectedReports.append(
            presence_pb2.CheckInProtectedReport(
                locationIdHash=report.locationIdHash,
                iv=report.iv,
                encryptedCheckInRecord=report.encryptedCheckInRecord,
                mac=report.mac,
            )
        )
    return payload


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with `$defs` references inlined, for a hand-written OpenAPI body."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def parse_json(raw: bytes) -> submission_pb2.SubmissionPayload:
    from pydantic import ValidationError

    try:
        return to_protobuf(SubmissionJSON.model_validate_json(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SubmissionFormatError(f"{where}: {first.get('msg', 'invalid')}") from None
