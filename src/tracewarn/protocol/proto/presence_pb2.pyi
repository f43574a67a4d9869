from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TraceLocationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCATION_TYPE_UNSPECIFIED: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_OTHER: _ClassVar[TraceLocationType]
    LOCATION_TYPE_TEMPORARY_OTHER: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_RETAIL: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_FOOD_SERVICE: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_CRAFT: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_WORKPLACE: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_EDUCATIONAL_INSTITUTION: _ClassVar[TraceLocationType]
    LOCATION_TYPE_PERMANENT_PUBLIC_BUILDING: _ClassVar[TraceLocationType]
    LOCATION_TYPE_TEMPORARY_CULTURAL_EVENT: _ClassVar[TraceLocationType]
    LOCATION_TYPE_TEMPORARY_CLUB_ACTIVITY: _ClassVar[TraceLocationType]
    LOCATION_TYPE_TEMPORARY_PRIVATE_EVENT: _ClassVar[TraceLocationType]
    LOCATION_TYPE_TEMPORARY_WORSHIP_SERVICE: _ClassVar[TraceLocationType]

class TracewarnLocationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRACEWARN_LOCATION_TYPE_UNSPECIFIED: _ClassVar[TracewarnLocationType]
    TRACEWARN_LOCATION_TYPE_TRAIN_COACH: _ClassVar[TracewarnLocationType]
    TRACEWARN_LOCATION_TYPE_FLIGHT: _ClassVar[TracewarnLocationType]
    TRACEWARN_LOCATION_TYPE_BUS: _ClassVar[TracewarnLocationType]
    TRACEWARN_LOCATION_TYPE_CHECKPOINT: _ClassVar[TracewarnLocationType]
LOCATION_TYPE_UNSPECIFIED: TraceLocationType
LOCATION_TYPE_PERMANENT_OTHER: TraceLocationType
LOCATION_TYPE_TEMPORARY_OTHER: TraceLocationType
LOCATION_TYPE_PERMANENT_RETAIL: TraceLocationType
LOCATION_TYPE_PERMANENT_FOOD_SERVICE: TraceLocationType
LOCATION_TYPE_PERMANENT_CRAFT: TraceLocationType
LOCATION_TYPE_PERMANENT_WORKPLACE: TraceLocationType
LOCATION_TYPE_PERMANENT_EDUCATIONAL_INSTITUTION: TraceLocationType
LOCATION_TYPE_PERMANENT_PUBLIC_BUILDING: TraceLocationType
LOCATION_TYPE_TEMPORARY_CULTURAL_EVENT: TraceLocationType
LOCATION_TYPE_TEMPORARY_CLUB_ACTIVITY: TraceLocationType
LOCATION_TYPE_TEMPORARY_PRIVATE_EVENT: TraceLocationType
LOCATION_TYPE_TEMPORARY_WORSHIP_SERVICE: TraceLocationType
TRACEWARN_LOCATION_TYPE_UNSPECIFIED: TracewarnLocationType
TRACEWARN_LOCATION_TYPE_TRAIN_COACH: TracewarnLocationType
TRACEWARN_LOCATION_TYPE_FLIGHT: TracewarnLocationType
TRACEWARN_LOCATION_TYPE_BUS: TracewarnLocationType
TRACEWARN_LOCATION_TYPE_CHECKPOINT: TracewarnLocationType

class QRCodePayload(_message.Message):
    __slots__ = ("version", "locationData", "crowdNotifierData", "vendorData")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LOCATIONDATA_FIELD_NUMBER: _ClassVar[int]
    CROWDNOTIFIERDATA_FIELD_NUMBER: _ClassVar[int]
    VENDORDATA_FIELD_NUMBER: _ClassVar[int]
    version: int
    locationData: TraceLocation
    crowdNotifierData: CrowdNotifierData
    vendorData: bytes
    def __init__(self, version: _Optional[int] = ..., locationData: _Optional[_Union[TraceLocation, _Mapping]] = ..., crowdNotifierData: _Optional[_Union[CrowdNotifierData, _Mapping]] = ..., vendorData: _Optional[bytes] = ...) -> None: ...

class TraceLocation(_message.Message):
    __slots__ = ("version", "description", "address", "startTimestamp", "endTimestamp")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STARTTIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ENDTIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    version: int
    description: str
    address: str
    startTimestamp: int
    endTimestamp: int
    def __init__(self, version: _Optional[int] = ..., description: _Optional[str] = ..., address: _Optional[str] = ..., startTimestamp: _Optional[int] = ..., endTimestamp: _Optional[int] = ...) -> None: ...

class CrowdNotifierData(_message.Message):
    __slots__ = ("version", "publicKey", "cryptographicSeed")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PUBLICKEY_FIELD_NUMBER: _ClassVar[int]
    CRYPTOGRAPHICSEED_FIELD_NUMBER: _ClassVar[int]
    version: int
    publicKey: bytes
    cryptographicSeed: bytes
    def __init__(self, version: _Optional[int] = ..., publicKey: _Optional[bytes] = ..., cryptographicSeed: _Optional[bytes] = ...) -> None: ...

class CWALocationData(_message.Message):
    __slots__ = ("version", "type", "defaultCheckInLengthInMinutes", "tracewarn")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULTCHECKINLENGTHINMINUTES_FIELD_NUMBER: _ClassVar[int]
    TRACEWARN_FIELD_NUMBER: _ClassVar[int]
    version: int
    type: TraceLocationType
    defaultCheckInLengthInMinutes: int
    tracewarn: TracewarnLocation
    def __init__(self, version: _Optional[int] = ..., type: _Optional[_Union[TraceLocationType, str]] = ..., defaultCheckInLengthInMinutes: _Optional[int] = ..., tracewarn: _Optional[_Union[TracewarnLocation, _Mapping]] = ...) -> None: ...

class TracewarnLocation(_message.Message):
    __slots__ = ("version", "type", "service", "unit", "serviceDate")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    SERVICEDATE_FIELD_NUMBER: _ClassVar[int]
    version: int
    type: TracewarnLocationType
    service: str
    unit: str
    serviceDate: str
    def __init__(self, version: _Optional[int] = ..., type: _Optional[_Union[TracewarnLocationType, str]] = ..., service: _Optional[str] = ..., unit: _Optional[str] = ..., serviceDate: _Optional[str] = ...) -> None: ...

class CheckIn(_message.Message):
    __slots__ = ("locationId", "startIntervalNumber", "endIntervalNumber", "transmissionRiskLevel")
    LOCATIONID_FIELD_NUMBER: _ClassVar[int]
    STARTINTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    ENDINTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    TRANSMISSIONRISKLEVEL_FIELD_NUMBER: _ClassVar[int]
    locationId: bytes
    startIntervalNumber: int
    endIntervalNumber: int
    transmissionRiskLevel: int
    def __init__(self, locationId: _Optional[bytes] = ..., startIntervalNumber: _Optional[int] = ..., endIntervalNumber: _Optional[int] = ..., transmissionRiskLevel: _Optional[int] = ...) -> None: ...

class CheckInRecord(_message.Message):
    __slots__ = ("startIntervalNumber", "period", "transmissionRiskLevel")
    STARTINTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TRANSMISSIONRISKLEVEL_FIELD_NUMBER: _ClassVar[int]
    startIntervalNumber: int
    period: int
    transmissionRiskLevel: int
    def __init__(self, startIntervalNumber: _Optional[int] = ..., period: _Optional[int] = ..., transmissionRiskLevel: _Optional[int] = ...) -> None: ...

class CheckInProtectedReport(_message.Message):
    __slots__ = ("locationIdHash", "iv", "encryptedCheckInRecord", "mac")
    LOCATIONIDHASH_FIELD_NUMBER: _ClassVar[int]
    IV_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTEDCHECKINRECORD_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    locationIdHash: bytes
    iv: bytes
    encryptedCheckInRecord: bytes
    mac: bytes
    def __init__(self, locationIdHash: _Optional[bytes] = ..., iv: _Optional[bytes] = ..., encryptedCheckInRecord: _Optional[bytes] = ..., mac: _Optional[bytes] = ...) -> None: ...

class TraceWarningPackage(_message.Message):
    __slots__ = ("intervalNumber", "region", "timeIntervalWarnings", "checkInProtectedReports")
    INTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEINTERVALWARNINGS_FIELD_NUMBER: _ClassVar[int]
    CHECKINPROTECTEDREPORTS_FIELD_NUMBER: _ClassVar[int]
    intervalNumber: int
    region: str
    timeIntervalWarnings: _containers.RepeatedCompositeFieldContainer[TraceTimeIntervalWarning]
    checkInProtectedReports: _containers.RepeatedCompositeFieldContainer[CheckInProtectedReport]
    def __init__(self, intervalNumber: _Optional[int] = ..., region: _Optional[str] = ..., timeIntervalWarnings: _Optional[_Iterable[_Union[TraceTimeIntervalWarning, _Mapping]]] = ..., checkInProtectedReports: _Optional[_Iterable[_Union[CheckInProtectedReport, _Mapping]]] = ...) -> None: ...

class TraceTimeIntervalWarning(_message.Message):
    __slots__ = ("locationIdHash", "startIntervalNumber", "period", "transmissionRiskLevel")
    LOCATIONIDHASH_FIELD_NUMBER: _ClassVar[int]
    STARTINTERVALNUMBER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TRANSMISSIONRISKLEVEL_FIELD_NUMBER: _ClassVar[int]
    locationIdHash: bytes
    startIntervalNumber: int
    period: int
    transmissionRiskLevel: int
    def __init__(self, locationIdHash: _Optional[bytes] = ..., startIntervalNumber: _Optional[int] = ..., period: _Optional[int] = ..., transmissionRiskLevel: _Optional[int] = ...) -> None: ...
