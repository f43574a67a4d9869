from tracewarn.protocol.proto import export_pb2 as _export_pb2
from tracewarn.protocol.proto import presence_pb2 as _presence_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmissionPayload(_message.Message):
    __slots__ = ("keys", "requestPadding", "visitedCountries", "origin", "consentToFederation", "checkIns", "submissionType", "checkInProtectedReports")
    class SubmissionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUBMISSION_TYPE_PCR_TEST: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_RAPID_TEST: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_HOST_WARNING: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_SELF_TEST: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_REGISTERED_RAT: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_UNREGISTERED_RAT: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_REGISTERED_PCR: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_UNREGISTERED_PCR: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_RAPID_PCR: _ClassVar[SubmissionPayload.SubmissionType]
        SUBMISSION_TYPE_SRS_OTHER: _ClassVar[SubmissionPayload.SubmissionType]
    SUBMISSION_TYPE_PCR_TEST: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_RAPID_TEST: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_HOST_WARNING: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_SELF_TEST: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_REGISTERED_RAT: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_UNREGISTERED_RAT: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_REGISTERED_PCR: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_UNREGISTERED_PCR: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_RAPID_PCR: SubmissionPayload.SubmissionType
    SUBMISSION_TYPE_SRS_OTHER: SubmissionPayload.SubmissionType
    KEYS_FIELD_NUMBER: _ClassVar[int]
    REQUESTPADDING_FIELD_NUMBER: _ClassVar[int]
    VISITEDCOUNTRIES_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CONSENTTOFEDERATION_FIELD_NUMBER: _ClassVar[int]
    CHECKINS_FIELD_NUMBER: _ClassVar[int]
    SUBMISSIONTYPE_FIELD_NUMBER: _ClassVar[int]
    CHECKINPROTECTEDREPORTS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_export_pb2.TemporaryExposureKey]
    requestPadding: bytes
    visitedCountries: _containers.RepeatedScalarFieldContainer[str]
    origin: str
    consentToFederation: bool
    checkIns: _containers.RepeatedCompositeFieldContainer[_presence_pb2.CheckIn]
    submissionType: SubmissionPayload.SubmissionType
    checkInProtectedReports: _containers.RepeatedCompositeFieldContainer[_presence_pb2.CheckInProtectedReport]
    def __init__(self, keys: _Optional[_Iterable[_Union[_export_pb2.TemporaryExposureKey, _Mapping]]] = ..., requestPadding: _Optional[bytes] = ..., visitedCountries: _Optional[_Iterable[str]] = ..., origin: _Optional[str] = ..., consentToFederation: _Optional[bool] = ..., checkIns: _Optional[_Iterable[_Union[_presence_pb2.CheckIn, _Mapping]]] = ..., submissionType: _Optional[_Union[SubmissionPayload.SubmissionType, str]] = ..., checkInProtectedReports: _Optional[_Iterable[_Union[_presence_pb2.CheckInProtectedReport, _Mapping]]] = ...) -> None: ...
