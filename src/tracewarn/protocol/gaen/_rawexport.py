"""TemporaryExposureKeyExport with its repeated message fields declared as `bytes`.

The protobuf runtime then splits export.bin into its top-level fields in C (and checks the wire
format) but leaves each key record as one bytes object for the vectorised decoder in `_keywire`,
instead of materialising 1.4 M sub-message objects. Field numbers and wire types are those of
`export.proto` (GAEN export file format [docs/specifications.md#gaen-export]); `region` is `bytes` so a non-UTF-8 region becomes our own error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tracewarn.protocol.errors import ExportFormatError

__all__ = ["RawExport", "check_field_budget", "field_budget"]


def _raw_export_class() -> Any:
    field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name="tracewarn/protocol/gaen/raw_export.proto",
        package="tracewarn.raw_export",
        syntax="proto2",
    )
    message = file.message_type.add(name="RawExport")
    optional, repeated = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    for number, name, kind, label in (
        (1, "start_timestamp", field.TYPE_FIXED64, optional),
        (2, "end_timestamp", field.TYPE_FIXED64, optional),
        (3, "region", field.TYPE_BYTES, optional),
        (4, "batch_num", field.TYPE_INT32, optional),
        (5, "batch_size", field.TYPE_INT32, optional),
        (6, "signature_infos", field.TYPE_BYTES, repeated),
        (7, "keys", field.TYPE_BYTES, repeated),
        (8, "revised_keys", field.TYPE_BYTES, repeated),
    ):
        message.field.add(number=number, name=name, type=kind, label=label)
    # A private pool, so the name can never clash with the generated export_pb2 messages.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tracewarn.raw_export.RawExport")
    )


RawExport: Any = _raw_export_class()


# Why a budget: the runtime spends ~40 bytes per element of a repeated field, so a body of
# 2-byte empty key records would cost 20x its size before any key could be rejected. Every key
# record a reader can accept holds a 16-byte key_data, so it takes at least 20 bytes on the wire.
MIN_KEY_RECORD_BYTES = 20
_SLACK_FIELDS = 64
# First bytes of tags for fields 6, 7 and 8 with wire type 2 (plain and over-long encodings).
_REPEATED_TAG_BYTES = np.zeros(256, dtype=np.bool_)
_REPEATED_TAG_BYTES[[0x32, 0xB2, 0x3A, 0xBA, 0x42, 0xC2]] = True


def field_budget(body_length: int) -> int:
    """Most top-level fields (hence repeated elements) a readable body of this size can hold."""
    return body_length // MIN_KEY_RECORD_BYTES + _SLACK_FIELDS


def check_field_budget(body: bytes | memoryview) -> None:
    """Raise ExportFormatError before parsing if `body` has more fields than it could use.

    Fast path: the number of bytes that could start a repeated-field tag bounds the element
    count; typical exports have about one per 20-30 bytes. Only above that does an exact,
    bounded walk over the top-level fields run, stopping as soon as the budget is exceeded.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 22  # look-up in 4 MiB pieces: no body-sized temporary
    candidates = sum(
        int(np.count_nonzero(_REPEATED_TAG_BYTES[data[i : i + step]]))
        for i in range(0, data.size, step)
    )
    if candidates <= len(body) // 12 + _SLACK_FIELDS:
        return
    _walk_fields(body, field_budget(len(body)))


def _varint(body: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(body):
            return value, len(body) + 1  # truncated: the runtime reports it
        byte = body[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
    return value, len(body) + 1  # over 10 bytes: the runtime reports it


def _walk_fields(body: bytes | memoryview, budget: int) -> None:
    pos = 0
    for _ in range(budget + 1):
        if pos >= len(body):
            return
        tag, pos = _varint(body, pos)
        wire = tag & 7
        if wire == 0:
            _, pos = _varint(body, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = _varint(body, pos)
            pos += length
        elif wire == 5:
            pos += 4
        elif wire not in (3, 4):  # group start/end tags stand alone; other types are errors
            return
    raise ExportFormatError(
        f"export.bin has more than {budget} top-level fields; a {len(body)}-byte export "
        f"holds at most {budget} keys"
    )
