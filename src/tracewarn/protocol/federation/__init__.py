"""Federation between regional backends, EFGS-compatible: batches, canonical bytes, signatures.

`batch`: the `DiagnosisKeyBatch` wire form and the canonical signature input; `signing`: detached
CMS batch signatures and the trust anchor's signatures over member certificates.
"""

from tracewarn.protocol.federation.batch import (
    TRL_NOT_PROVIDED,
    FederationKey,
    ReportType,
    batch_signature_input,
    canonical_record,
    decode_record,
    encode_batch,
    encode_batch_json,
    parse_batch,
    parse_batch_json,
    validate_country,
)
from tracewarn.protocol.federation.signing import (
    SignerKey,
    VerifiedSigner,
    certificate_country,
    certificate_pem,
    certificate_thumbprint,
    load_certificate,
    operator_sign,
    sign_batch,
    verify_batch,
    verify_operator_signature,
)

__all__ = [
    "TRL_NOT_PROVIDED",
    "FederationKey",
    "ReportType",
    "SignerKey",
    "VerifiedSigner",
    "batch_signature_input",
    "canonical_record",
    "certificate_country",
    "certificate_pem",
    "certificate_thumbprint",
    "decode_record",
    "encode_batch",
    "encode_batch_json",
    "load_certificate",
    "operator_sign",
    "parse_batch",
    "parse_batch_json",
    "sign_batch",
    "validate_country",
    "verify_batch",
    "verify_operator_signature",
]
