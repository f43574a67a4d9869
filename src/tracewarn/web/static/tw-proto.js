// tracewarn: a minimal protobuf reader for the few messages the check-in page needs.
// Written from the protobuf wire-format encoding rules (https://protobuf.dev/programming-guides/encoding/)
// and the field tables of CWA's presence-tracing messages (src/tracewarn/protocol/proto/presence.proto).
// Proto3 semantics: unknown fields are skipped, the last value of a scalar wins, strings must be UTF-8.
(function (tw) {
  "use strict";

  class ProtoError extends Error {}

  const utf8 = new TextDecoder("utf-8", { fatal: true });

  function readVarint(buf, pos) {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtoError("truncated varint");
      const byte = buf[pos++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (value > Number.MAX_SAFE_INTEGER) throw new ProtoError("varint beyond 2^53");
        return [value, pos];
      }
      scale *= 128;
    }
    throw new ProtoError("varint longer than 10 bytes");
  }

  // Every field of a message in wire order: {field, wire, value}; value is a Number (varint)
  // or a Uint8Array (length-delimited, fixed32, fixed64).
  function fields(buf) {
    const out = [];
    let pos = 0;
    while (pos < buf.length) {
      let key;
      [key, pos] = readVarint(buf, pos);
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field === 0) throw new ProtoError("field number 0");
      let value;
      if (wire === 0) {
        [value, pos] = readVarint(buf, pos);
      } else if (wire === 2) {
        let length;
        [length, pos] = readVarint(buf, pos);
        if (pos + length > buf.length) throw new ProtoError("truncated length-delimited field");
        value = buf.subarray(pos, pos + length);
        pos += length;
      } else if (wire === 1 || wire === 5) {
        const size = wire === 1 ? 8 : 4;
        if (pos + size > buf.length) throw new ProtoError("truncated fixed field");
        value = buf.subarray(pos, pos + size);
        pos += size;
      } else {
        throw new ProtoError("unsupported wire type " + wire);
      }
      out.push({ field, wire, value });
    }
    return out;
  }

  // Decode by a schema {fieldNumber: [name, kind]} with kind "uint", "bytes", "string", a nested
  // schema object, or ["repeated", kind]. Fields of an unexpected wire type are skipped as unknown.
  function decode(buf, schema) {
    const message = {};
    for (const spec of Object.values(schema)) {
      const kind = spec[1];
      message[spec[0]] = Array.isArray(kind) ? [] : defaultOf(kind);
    }
    for (const { field, wire, value } of fields(buf)) {
      const spec = schema[field];
      if (!spec) continue;
      const [name, kind] = spec;
      const repeated = Array.isArray(kind);
      const inner = repeated ? kind[1] : kind;
      const expectedWire = inner === "uint" ? 0 : 2;
      if (wire !== expectedWire) continue;
      let parsed;
      if (inner === "uint") parsed = value;
      else if (inner === "bytes") parsed = value.slice();
      else if (inner === "string") {
        try {
          parsed = utf8.decode(value);
        } catch (e) {
          throw new ProtoError("string field " + name + " is not UTF-8");
        }
      } else parsed = decode(value, inner);
      if (repeated) message[name].push(parsed);
      else message[name] = parsed;
    }
    return message;
  }

  function defaultOf(kind) {
    if (kind === "uint") return 0;
    if (kind === "bytes") return new Uint8Array(0);
    if (kind === "string") return "";
    return null; // an absent message field
  }

  function encodeVarint(value, out) {
    while (value >= 128) {
      out.push((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    out.push(value);
  }

  // Serialize {fieldNumber: uint} as proto3 does (zero values omitted, ascending field order).
  function encodeUints(values) {
    const out = [];
    for (const field of Object.keys(values).map(Number).sort((a, b) => a - b)) {
      const value = values[field];
      if (!Number.isSafeInteger(value) || value < 0) throw new ProtoError("not a uint: " + value);
      if (value === 0) continue;
      encodeVarint(field * 8, out);
      encodeVarint(value, out);
    }
    return new Uint8Array(out);
  }

  const S = {};
  S.TraceLocation = { 1: ["version", "uint"], 2: ["description", "string"], 3: ["address", "string"],
    5: ["startTimestamp", "uint"], 6: ["endTimestamp", "uint"] };
  S.CrowdNotifierData = { 1: ["version", "uint"], 2: ["publicKey", "bytes"], 3: ["cryptographicSeed", "bytes"] };
  S.QRCodePayload = { 1: ["version", "uint"], 2: ["locationData", S.TraceLocation],
    3: ["crowdNotifierData", S.CrowdNotifierData], 4: ["vendorData", "bytes"] };
  S.TracewarnLocation = { 1: ["version", "uint"], 2: ["type", "uint"], 3: ["service", "string"],
    4: ["unit", "string"], 5: ["serviceDate", "string"] };
  S.CWALocationData = { 1: ["version", "uint"], 2: ["type", "uint"],
    3: ["defaultCheckInLengthInMinutes", "uint"], 100: ["tracewarn", S.TracewarnLocation] };
  S.CheckInRecord = { 1: ["startIntervalNumber", "uint"], 2: ["period", "uint"], 3: ["transmissionRiskLevel", "uint"] };
  S.CheckInProtectedReport = { 1: ["locationIdHash", "bytes"], 2: ["iv", "bytes"],
    3: ["encryptedCheckInRecord", "bytes"], 4: ["mac", "bytes"] };
  S.TraceWarningPackage = { 1: ["intervalNumber", "uint"], 2: ["region", "string"],
    4: ["checkInProtectedReports", ["repeated", S.CheckInProtectedReport]] };
  S.SignatureInfo = { 3: ["verificationKeyVersion", "string"], 4: ["verificationKeyId", "string"],
    5: ["signatureAlgorithm", "string"] };
  S.TEKSignature = { 1: ["signatureInfo", S.SignatureInfo], 2: ["batchNum", "uint"], 3: ["batchSize", "uint"],
    4: ["signature", "bytes"] };
  S.TEKSignatureList = { 1: ["signatures", ["repeated", S.TEKSignature]] };

  tw.ProtoError = ProtoError;
  tw.proto = { decode, fields, encodeUints, schemas: S };
})((window.tracewarn = window.tracewarn || {}));
