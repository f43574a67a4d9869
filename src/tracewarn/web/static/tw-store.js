// tracewarn: check-ins in this browser's IndexedDB only; deleted 15 days after they end (CWA).
(function (tw) {
  "use strict";

  const DB_NAME = "tracewarn";
  const STORE = "checkins";
  const RETENTION_SECONDS = 15 * 86400;

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, action) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const request = action(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(request ? request.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const all = () => run("readonly", (s) => s.getAll());
  const put = (record) => run("readwrite", (s) => s.put(record));
  const add = (record) => run("readwrite", (s) => s.add(record));
  const remove = (id) => run("readwrite", (s) => s.delete(id));

  // Complete every open check-in whose planned end has passed; drop expired ones.
  async function autoCheckOut(now) {
    const records = await all();
    for (const record of records) {
      if (now - record.end > RETENTION_SECONDS) await remove(record.id);
      else if (!record.completed && record.end <= now) {
        record.completed = true;
        await put(record);
      }
    }
    return (await all()).sort((a, b) => b.start - a.start);
  }

  tw.store = { all, put, add, remove, autoCheckOut };
})((window.tracewarn = window.tracewarn || {}));
