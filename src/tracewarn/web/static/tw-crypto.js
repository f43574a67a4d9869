// tracewarn: check-in codes, report decryption and matching in the browser with WebCrypto.
// The same derivations as src/tracewarn/protocol/presence (CWA event registration, "Cryptography"
// and "Matching" sections of the Corona-Warn-App presence-tracing documentation:
// https://github.com/corona-warn-app/cwa-documentation/blob/main/event_registration.md),
// checked byte for byte against CWA's published test vectors in tests/web.
(function (tw) {
  "use strict";

  const subtle = window.crypto.subtle;
  const ascii = (text) => new TextEncoder().encode(text);
  const LOCATION_ID_PREFIX = ascii("CWA-GUID");
  const ENCRYPTION_KEY_PREFIX = ascii("CWA-ENCRYPTION-KEY");
  const MAC_KEY_PREFIX = ascii("CWA-MAC-KEY");
  const INTERVAL_SECONDS = 600;
  const DAY_SECONDS = 86400;
  const RISK_HORIZON_DAYS = 10;

  class FormatError extends Error {}
  class InvalidMAC extends Error {}

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/i.test(text)) throw new FormatError("not hex");
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function fromBase64(text) {
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  function toBase64(bytes) {
    return btoa(String.fromCharCode(...bytes));
  }
  // Strict base64url as the QR URL carries it (padding optional, no other characters).
  function fromBase64Url(text) {
    const body = text.replace(/=+$/, "");
    if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) {
      throw new FormatError("the code is not base64url");
    }
    const std = body.replace(/-/g, "+").replace(/_/g, "/");
    return fromBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
  }
  const toBase64Url = (bytes) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  async function sha256(...parts) {
    return new Uint8Array(await subtle.digest("SHA-256", concat(...parts)));
  }
  async function hmacSha256(key, data) {
    const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", k, data));
  }
  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }
  function check32(name, bytes) {
    if (bytes.length !== 32) throw new FormatError(`a ${name} is 32 bytes, got ${bytes.length}`);
  }

  const locationId = (payload) => sha256(LOCATION_ID_PREFIX, payload);
  async function locationIdHash(locId) {
    check32("location id", locId);
    return sha256(locId);
  }
  async function encryptionKey(locId) {
    check32("location id", locId);
    return sha256(ENCRYPTION_KEY_PREFIX, locId);
  }
  async function macKey(locId) {
    check32("location id", locId);
    return sha256(MAC_KEY_PREFIX, locId);
  }
  const reportMac = (key, iv, ciphertext) => hmacSha256(key, concat(iv, ciphertext));

  function checkReportSizes(report) {
    const sizes = [["locationIdHash", 32], ["iv", 16], ["encryptedCheckInRecord", 16], ["mac", 32]];
    for (const [name, size] of sizes) {
      if (report[name].length !== size) {
        throw new FormatError(`protected report ${name} is ${report[name].length} bytes, exactly ${size} required`);
      }
    }
  }

  async function encryptCheckInRecord(locId, record, iv) {
    if (iv.length !== 16) throw new FormatError("the iv is 16 bytes");
    const plaintext = tw.proto.encodeUints({
      1: record.startIntervalNumber, 2: record.period, 3: record.transmissionRiskLevel,
    });
    const key = await subtle.importKey("raw", await encryptionKey(locId), "AES-CBC", false, ["encrypt"]);
    const ciphertext = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv }, key, plaintext));
    if (ciphertext.length !== 16) throw new FormatError("check-in record does not fit in one AES block");
    return {
      locationIdHash: await locationIdHash(locId),
      iv,
      encryptedCheckInRecord: ciphertext,
      mac: await reportMac(await macKey(locId), iv, ciphertext),
    };
  }

  // Verify the MAC first (CWA matching step 2), only then decrypt; like decrypt_report.
  async function decryptReport(locId, report) {
    checkReportSizes(report);
    const expected = await reportMac(await macKey(locId), report.iv, report.encryptedCheckInRecord);
    if (!equalBytes(expected, report.mac)) {
      throw new InvalidMAC("check-in report MAC does not verify: tampered, or not for this location");
    }
    const key = await subtle.importKey("raw", await encryptionKey(locId), "AES-CBC", false, ["decrypt"]);
    let plaintext;
    try {
      plaintext = new Uint8Array(await subtle.decrypt({ name: "AES-CBC", iv: report.iv }, key, report.encryptedCheckInRecord));
    } catch (e) {
      throw new FormatError("check-in report decrypts to invalid padding");
    }
    try {
      return tw.proto.decode(plaintext, tw.proto.schemas.CheckInRecord);
    } catch (e) {
      throw new FormatError("decrypted data is not a CheckInRecord");
    }
  }

  const isPlausible = (r) => r.period > 0 && r.transmissionRiskLevel >= 1 && r.transmissionRiskLevel <= 8;

  function splitAtUtcMidnight(start, end) {
    const parts = [];
    let cursor = start;
    for (let i = 0; cursor < end && i < 64; i++) {
      const midnight = (Math.floor(cursor / DAY_SECONDS) + 1) * DAY_SECONDS;
      parts.push([cursor, Math.min(end, midnight)]);
      cursor = midnight;
    }
    return parts;
  }

  // CWA matching as protocol/presence/matching.py: select reports by location id hash,
  // verify and decrypt, drop implausible records, overlap with each UTC-day part of the stay.
  // checkIns: [{locationId: Uint8Array(32), start, end}] in Unix seconds.
  async function matchCheckIns(checkIns, reports, now) {
    const byHash = new Map();
    for (let index = 0; index < checkIns.length; index++) {
      const c = checkIns[index];
      if (now !== undefined && now - c.end > RISK_HORIZON_DAYS * DAY_SECONDS) continue;
      const key = hex(await locationIdHash(c.locationId));
      if (!byHash.has(key)) byHash.set(key, []);
      byHash.get(key).push(index);
    }
    const result = { overlaps: [], reportsSelected: 0, reportsRejectedMac: 0, reportsRejectedContent: 0 };
    for (const report of reports) {
      const indices = byHash.get(hex(report.locationIdHash));
      if (!indices) continue;
      result.reportsSelected++;
      let record;
      try {
        record = await decryptReport(checkIns[indices[0]].locationId, report);
      } catch (e) {
        if (e instanceof InvalidMAC) result.reportsRejectedMac++;
        else result.reportsRejectedContent++;
        continue;
      }
      if (!isPlausible(record)) {
        result.reportsRejectedContent++;
        continue;
      }
      const warnStart = record.startIntervalNumber * INTERVAL_SECONDS;
      const warnEnd = (record.startIntervalNumber + record.period) * INTERVAL_SECONDS;
      for (const index of indices) {
        for (const [partStart, partEnd] of splitAtUtcMidnight(checkIns[index].start, checkIns[index].end)) {
          const start = Math.max(partStart, warnStart);
          const end = Math.min(partEnd, warnEnd);
          if (end > start) {
            result.overlaps.push({ checkInIndex: index, start, end, transmissionRiskLevel: record.transmissionRiskLevel });
          }
        }
      }
    }
    return result;
  }

  tw.FormatError = FormatError;
  tw.InvalidMAC = InvalidMAC;
  tw.bytes = { concat, hex, fromHex, fromBase64, toBase64, fromBase64Url, toBase64Url, equalBytes };
  tw.crypto = {
    sha256, hmacSha256, locationId, locationIdHash, encryptionKey, macKey, reportMac,
    encryptCheckInRecord, decryptReport, isPlausible, splitAtUtcMidnight, matchCheckIns,
  };
})((window.tracewarn = window.tracewarn || {}));
