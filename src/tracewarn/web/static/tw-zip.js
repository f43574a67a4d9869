// tracewarn: read a signed package zip (export.bin + export.sig) and verify its ECDSA P-256
// signature with WebCrypto, as protocol/gaen verify_signed_zip does. Zip layout from PKWARE's
// APPNOTE.TXT (local header, central directory, end of central directory); deflate via the
// browser's DecompressionStream.
(function (tw) {
  "use strict";

  const MAX_ENTRY_BYTES = 16 * 1024 * 1024;
  class ZipError extends Error {}

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();
  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  async function inflateRaw(data, expectedSize) {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const reader = stream.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > expectedSize || total > MAX_ENTRY_BYTES) {
        await reader.cancel();
        throw new ZipError("entry inflates beyond its declared size");
      }
      chunks.push(value);
    }
    return tw.bytes.concat(...chunks);
  }

  // {name: Uint8Array} of every entry, sizes and CRCs checked.
  async function readZip(data) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let eocd = -1;
    for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
      if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) throw new ZipError("not a zip: no end of central directory");
    const count = view.getUint16(eocd + 10, true);
    let pos = view.getUint32(eocd + 16, true);
    if (count > 10) throw new ZipError("too many zip entries");
    const entries = {};
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (pos + 46 > data.length || view.getUint32(pos, true) !== 0x02014b50) throw new ZipError("bad central directory");
      const method = view.getUint16(pos + 10, true);
      const crc = view.getUint32(pos + 16, true);
      const compressed = view.getUint32(pos + 20, true);
      const size = view.getUint32(pos + 24, true);
      const nameLength = view.getUint16(pos + 28, true);
      const extra = view.getUint16(pos + 30, true);
      const comment = view.getUint16(pos + 32, true);
      const local = view.getUint32(pos + 42, true);
      const name = decoder.decode(data.subarray(pos + 46, pos + 46 + nameLength));
      pos += 46 + nameLength + extra + comment;
      if (local + 30 > data.length || view.getUint32(local, true) !== 0x04034b50) throw new ZipError("bad local header");
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (start + compressed > data.length || size > MAX_ENTRY_BYTES) throw new ZipError("zip entry out of bounds");
      const raw = data.subarray(start, start + compressed);
      let content;
      if (method === 0) content = raw.slice();
      else if (method === 8) content = await inflateRaw(raw, size);
      else throw new ZipError("unsupported zip compression " + method);
      if (content.length !== size || crc32(content) !== crc) throw new ZipError(`zip entry ${name} is corrupt`);
      entries[name] = content;
    }
    return entries;
  }

  // A DER ECDSA signature (SEQUENCE of two INTEGERs) as the 64-byte r || s WebCrypto verifies.
  function derToRaw(der) {
    const fail = () => { throw new ZipError("signature is not DER ECDSA"); };
    if (der.length < 8 || der[0] !== 0x30) fail();
    let pos = 2;
    if (der[1] & 0x80) pos = 2 + (der[1] & 0x7f);
    const out = new Uint8Array(64);
    for (let part = 0; part < 2; part++) {
      if (der[pos] !== 0x02) fail();
      const length = der[pos + 1];
      let value = der.subarray(pos + 2, pos + 2 + length);
      pos += 2 + length;
      while (value.length > 32 && value[0] === 0) value = value.subarray(1);
      if (value.length > 32) fail();
      out.set(value, part * 32 + (32 - value.length));
    }
    return out;
  }

  async function importPem(pem) {
    const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    return crypto.subtle.importKey("spki", tw.bytes.fromBase64(body), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  }

  // export.bin of a package whose export.sig holds a valid signature by one of `keys`
  // ([{region, keyId, keyVersion, publicKeyPem}] from /version/v1/signing-keys) for `region`.
  async function verifySignedZip(data, keys, region) {
    const entries = await readZip(data);
    const exportBin = entries["export.bin"];
    const exportSig = entries["export.sig"];
    if (!exportBin || !exportSig) throw new ZipError("package lacks export.bin or export.sig");
    const list = tw.proto.decode(exportSig, tw.proto.schemas.TEKSignatureList);
    for (const sig of list.signatures) {
      const info = sig.signatureInfo || {};
      for (const key of keys) {
        if (key.region !== region || key.keyId !== info.verificationKeyId || key.keyVersion !== info.verificationKeyVersion) continue;
        const publicKey = await importPem(key.publicKeyPem);
        const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, derToRaw(sig.signature), exportBin);
        if (ok) return exportBin;
      }
    }
    throw new ZipError("no signature of the package verifies with a published key");
  }

  tw.ZipError = ZipError;
  tw.zip = { readZip, verifySignedZip, crc32, derToRaw };
})((window.tracewarn = window.tracewarn || {}));
