"""TemporaryExposureKeyExport with its repeated message fields declared as `bytes`.

The protobuf runtime then splits export.bin into its top-level fields in C (and checks the wire
format) but leaves each key record as one bytes object for the vectorised decoder in `_keywire`,
instead of materialising 1.4 M sub-message objects. Field numbers and wire types are those of
`export.proto` (gaen.md §3.3); `region` is `bytes` so a non-UTF-8 region becomes our own error.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["RawExport"]


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
