// tracewarn check-in page: check in from the URL fragment, list check-ins, show warnings.
// Nothing is sent anywhere except the downloads of published packages (same origin, no cookie).
(function (tw) {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const show = (el, visible) => el.classList.toggle("hidden", !visible);
  const when = (ts) => new Date(ts * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const clock = (ts) => new Date(ts * 1000).toLocaleTimeString(undefined, { timeStyle: "short" });
  const MAX_HOURS = 15 * 24;

  function error(text) {
    const el = $("error");
    el.textContent = text;
    show(el, Boolean(text));
  }

  function placeLine(record) {
    return `${record.description} — ${record.address}`;
  }

  async function renderList(records) {
    const list = $("checkins");
    list.replaceChildren();
    for (const r of records) {
      const li = document.createElement("li");
      const state = r.completed ? `until ${clock(r.end)}` : `checked in, automatic check-out at ${clock(r.end)}`;
      li.textContent = `${placeLine(r)} (${r.typeLabel}): ${when(r.start)}, ${state}`;
      li.dataset.locationId = r.locationId;
      list.append(li);
    }
    show($("no-checkins"), records.length === 0);
    const open = records.find((r) => !r.completed);
    show($("current"), Boolean(open));
    if (open) {
      $("current-text").textContent = `${placeLine(open)} since ${clock(open.start)}. You will be checked out automatically at ${clock(open.end)}.`;
      $("checkout-button").onclick = async () => {
        open.end = Math.max(open.start, Math.min(nowSeconds(), open.end));
        open.completed = true;
        await tw.store.put(open);
        await refresh();
      };
      // The automatic check-out while the page stays open (timers are capped near 24 days).
      const wait = Math.min(open.end - nowSeconds(), 86400) * 1000;
      setTimeout(refresh, Math.max(1000, wait));
    }
  }

  async function refresh() {
    await renderList(await tw.store.autoCheckOut(nowSeconds()));
  }

  function lengthOptions(minutes) {
    const select = $("length");
    select.replaceChildren();
    const choices = Array.from(new Set([minutes, 15, 30, 60, 120, 240].filter((m) => m > 0))).sort((a, b) => a - b);
    for (const m of choices) {
      const option = document.createElement("option");
      option.value = String(m);
      option.textContent = m >= 120 && m % 60 === 0 ? `${m / 60} hours` : `${m} minutes`;
      option.selected = m === minutes;
      select.append(option);
    }
  }

  async function showPlace(fragment) {
    let payload, loc;
    try {
      payload = tw.bytes.fromBase64Url(fragment);
      loc = tw.location.decodePayload(payload);
    } catch (e) {
      error("This is not a check-in code this page can read.");
      return;
    }
    const problems = tw.location.validationProblems(loc);
    if (problems.length) {
      error("This check-in code is invalid: " + problems.join("; ") + ".");
      return;
    }
    const locationId = tw.bytes.hex(await tw.crypto.locationId(payload));
    $("place-name").textContent = loc.description;
    $("place-address").textContent = loc.address;
    let kind = loc.typeLabel;
    if (loc.transport) kind += `: ${loc.transport.service}${loc.transport.unit ? ", " + loc.transport.unit : ""}${loc.transport.serviceDate ? ", " + loc.transport.serviceDate : ""}`;
    if (!loc.isPermanent) kind += ` (${when(loc.startTimestamp)} to ${when(loc.endTimestamp)})`;
    $("place-kind").textContent = kind;
    const records = await tw.store.autoCheckOut(nowSeconds());
    const already = records.find((r) => !r.completed && r.locationId === locationId);
    show($("checkin-form"), !already);
    if (already) {
      show($("place"), true);
      return;
    }
    lengthOptions(tw.location.defaultCheckInLengthMinutes(loc, nowSeconds()));
    $("checkin-button").onclick = async () => {
      const start = nowSeconds();
      // One open check-in at a time, as in CWA: a new one completes the previous stay.
      for (const r of await tw.store.autoCheckOut(start)) {
        if (!r.completed) {
          r.end = Math.max(r.start, Math.min(start, r.end));
          r.completed = true;
          await tw.store.put(r);
        }
      }
      await tw.store.add({
        locationId,
        description: loc.description,
        address: loc.address,
        typeLabel: loc.typeLabel,
        start,
        end: start + Number($("length").value) * 60,
        completed: false,
      });
      show($("checkin-form"), false);
      show($("place"), false);
      await refresh();
      $("current").focus();
    };
    show($("place"), true);
  }

  async function checkinView() {
    const fragment = location.hash.slice(1);
    if (fragment) {
      await showPlace(fragment);
      // The code stays out of the history and the address bar once read.
      history.replaceState(null, "", location.pathname);
    }
    await refresh();
  }

  async function get(url) {
    const response = await fetch(url, { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`download failed (${response.status})`);
    return response;
  }

  async function checkWarnings(region) {
    const status = $("status");
    const list = $("warnings");
    list.replaceChildren();
    status.textContent = "Downloading published warnings…";
    const now = nowSeconds();
    const records = await tw.store.autoCheckOut(now);
    const index = await get(`/version/v2/twp/country/${region}/hour`);
    const keysResponse = await get("/version/v1/signing-keys");
    const reports = [];
    let packages = 0;
    if (index && keysResponse) {
      const { oldest, latest } = await index.json();
      const keys = (await keysResponse.json()).keys;
      const first = Math.max(oldest, latest - MAX_HOURS + 1);
      for (let hour = first; hour <= latest; hour++) {
        const response = await get(`/version/v2/twp/country/${region}/hour/${hour}`);
        if (!response) continue;
        const exportBin = await tw.zip.verifySignedZip(new Uint8Array(await response.arrayBuffer()), keys, region);
        const pkg = tw.proto.decode(exportBin, tw.proto.schemas.TraceWarningPackage);
        reports.push(...pkg.checkInProtectedReports);
        packages++;
      }
    }
    const checkIns = records.map((r) => ({
      locationId: tw.bytes.fromHex(r.locationId),
      start: r.start,
      end: r.completed ? r.end : Math.max(r.start, Math.min(now, r.end)),
    }));
    const result = await tw.crypto.matchCheckIns(checkIns, reports, now);
    // For support and tests: what was selected and why reports were skipped (no place names).
    status.dataset.selected = String(result.reportsSelected);
    status.dataset.rejected = `${result.reportsRejectedMac}/${result.reportsRejectedContent}`;
    status.dataset.stays = JSON.stringify(checkIns.map((c) => [c.start, c.end]));
    for (const overlap of result.overlaps) {
      const record = records[overlap.checkInIndex];
      const li = document.createElement("li");
      li.className = "warning";
      const minutes = Math.round((overlap.end - overlap.start) / 60);
      const span = minutes < 1 ? "less than a minute" : minutes === 1 ? "1 minute" : `${minutes} minutes`;
      li.textContent = `Warning: a person who later tested positive was at ${placeLine(record)} on ${when(overlap.start)}, `
        + `for ${span} while you were there (until ${clock(overlap.end)}). `
        + "Watch for symptoms, reduce contacts and consider getting tested.";
      list.append(li);
    }
    const summary = `Checked ${packages} hourly package${packages === 1 ? "" : "s"} with ${reports.length} report${reports.length === 1 ? "" : "s"} against ${records.length} check-in${records.length === 1 ? "" : "s"}: `;
    status.textContent = summary + (result.overlaps.length ? `${result.overlaps.length} warning${result.overlaps.length === 1 ? "" : "s"}.` : "no warning.");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const app = $("app");
    if (!app) return;
    if (app.dataset.view === "checkin") {
      checkinView()
        .catch((e) => error(String(e.message || e)))
        .finally(() => { app.dataset.ready = "1"; });
    } else {
      $("check-button").addEventListener("click", () => {
        checkWarnings(app.dataset.region).catch((e) => {
          $("status").textContent = "Could not check for warnings: " + (e.message || e);
        });
      });
      app.dataset.ready = "1";
    }
  });
})((window.tracewarn = window.tracewarn || {}));
