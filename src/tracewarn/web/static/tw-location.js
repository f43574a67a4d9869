// tracewarn: what a check-in code says, as protocol/presence/location.py and checkin.py read it.
(function (tw) {
  "use strict";

  const TYPES = {
    0: "UNSPECIFIED", 1: "PERMANENT_OTHER", 2: "TEMPORARY_OTHER", 3: "PERMANENT_RETAIL",
    4: "PERMANENT_FOOD_SERVICE", 5: "PERMANENT_CRAFT", 6: "PERMANENT_WORKPLACE",
    7: "PERMANENT_EDUCATIONAL_INSTITUTION", 8: "PERMANENT_PUBLIC_BUILDING",
    9: "TEMPORARY_CULTURAL_EVENT", 10: "TEMPORARY_CLUB_ACTIVITY", 11: "TEMPORARY_PRIVATE_EVENT",
    12: "TEMPORARY_WORSHIP_SERVICE",
  };
  // tracewarn's own types ride in CWALocationData field 100 (CWA scanners skip it).
  const TRACEWARN_TYPES = { 1: "TRAIN_COACH", 2: "FLIGHT", 3: "BUS", 4: "CHECKPOINT" };
  const TRANSPORT = new Set(["TRAIN_COACH", "FLIGHT", "BUS"]);
  const LABELS = { TRAIN_COACH: "Train coach", FLIGHT: "Flight", BUS: "Bus", CHECKPOINT: "Checkpoint" };
  const MIN_LENGTH = 15;
  const MAX_LENGTH = 23 * 60 + 45;
  const FALLBACK_LENGTH = 120;

  function typeLabel(type) {
    if (LABELS[type]) return LABELS[type];
    const words = type.replace(/^PERMANENT_/, "").replace(/^TEMPORARY_/, "").replace(/_/g, " ").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // decode_qr_payload: the location without judging it; FormatError for bytes that are not one.
  function decodePayload(payload) {
    const P = tw.proto.schemas;
    let message, vendor;
    try {
      message = tw.proto.decode(payload, P.QRCodePayload);
      vendor = tw.proto.decode(message.vendorData, P.CWALocationData);
    } catch (e) {
      throw new tw.FormatError("the code is not a CWA QRCodePayload");
    }
    if (message.locationData === null) throw new tw.FormatError("the code has no location data");
    let type = TYPES[vendor.type] || "UNSPECIFIED";
    let transport = null;
    const ext = vendor.tracewarn;
    if (ext !== null && TRACEWARN_TYPES[ext.type]) {
      type = TRACEWARN_TYPES[ext.type];
      if (TRANSPORT.has(type)) transport = { service: ext.service, unit: ext.unit, serviceDate: ext.serviceDate };
    }
    const loc = message.locationData;
    const crowd = message.crowdNotifierData || { cryptographicSeed: new Uint8Array(0) };
    return {
      version: message.version,
      description: loc.description,
      address: loc.address,
      type,
      typeLabel: typeLabel(type),
      isTransport: TRANSPORT.has(type),
      startTimestamp: loc.startTimestamp,
      endTimestamp: loc.endTimestamp,
      isPermanent: loc.startTimestamp === 0 && loc.endTimestamp === 0,
      defaultCheckInLengthMinutes: vendor.defaultCheckInLengthInMinutes || null,
      cryptographicSeed: crowd.cryptographicSeed,
      transport,
    };
  }

  // validation_problems: the scan rules a device applies (CWA "QR code validation").
  function validationProblems(loc) {
    const problems = [];
    for (const [field, text] of [["description", loc.description], ["address", loc.address]]) {
      if (!text.trim()) problems.push(`${field} must not be empty`);
      if (text.length > 255) problems.push(`${field} is longer than 255 characters`); // UTF-16 units, as Kotlin counts
      if (/[\r\n]/.test(text)) problems.push(`${field} must be a single line`);
    }
    if (loc.startTimestamp > loc.endTimestamp) problems.push("start is after end");
    if (loc.cryptographicSeed.length !== 16) problems.push("cryptographic seed is not 16 bytes");
    if (loc.isTransport && (!loc.transport || !loc.transport.service)) problems.push("a transport code must name its service");
    return problems;
  }

  const clamp = (m) => Math.max(MIN_LENGTH, Math.min(MAX_LENGTH, m));

  // default_check_in_length_minutes: minutes from now to the automatic check-out.
  function defaultCheckInLengthMinutes(loc, now) {
    if (loc.isTransport && loc.endTimestamp > now) return Math.max(1, Math.ceil((loc.endTimestamp - now) / 60));
    if (loc.defaultCheckInLengthMinutes) return clamp(loc.defaultCheckInLengthMinutes);
    if (!loc.isPermanent && loc.endTimestamp > now) {
      // Python's round() rounds halves to even; (end - now) / 60 / 15 is rarely exactly x.5.
      const q = (loc.endTimestamp - now) / 60 / 15;
      const r = Math.round(q);
      const even = Math.abs(q - Math.trunc(q)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      return clamp(even * 15);
    }
    return FALLBACK_LENGTH;
  }

  tw.location = { decodePayload, validationProblems, defaultCheckInLengthMinutes, typeLabel };
})((window.tracewarn = window.tracewarn || {}));
