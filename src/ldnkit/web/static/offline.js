// ldnkit offline diary: progressive enhancement (the form still posts without this script).
// - registers the service worker (installable app, pages readable offline);
// - keeps a draft of the diary form in localStorage while it is being filled in, so an
//   expired session or a closed tab loses nothing;
// - on "Save", queues the entry with a UUID made here and sends it with
//   PUT /api/patients/{id}/diary/entries/{uuid}; a repeat of the same id never makes a
//   second revision, so retrying after a dropped connection is safe;
// - sends whatever is queued when the browser comes back online and on every page load.
(() => {
  const QUEUE = "ldnkit.diary.queue";
  const REJECTED = "ldnkit.diary.rejected";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }

  const load = (key) => {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // The page's language (issue 16): base.html hands a patient's page its messages, keyed by
  // the English text; without them (English, or an old cached page) the English stays.
  const MESSAGES = (() => {
    const el = document.getElementById("ldnkit-messages");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();
  function t(text, vars) {
    let out = MESSAGES[text] || text;
    for (const [k, v] of Object.entries(vars || {})) out = out.split(`%(${k})s`).join(String(v));
    return out;
  }

  function status(text, testid) {
    let box = document.querySelector("[data-offline-status]");
    if (!box) {
      box = document.createElement("p");
      box.setAttribute("data-offline-status", "");
      box.setAttribute("role", "status");
      const main = document.querySelector("main");
      if (main) main.prepend(box);
    }
    box.className = testid === "diary-rejected" ? "error" : "ok";
    box.dataset.testid = testid;
    box.textContent = text;
    box.scrollIntoView({ block: "nearest" });
  }

  function showPending() {
    const n = load(QUEUE).length;
    if (n > 0) {
      status(t(n === 1 ? "%(n)s diary entry saved on this phone, waiting to be sent."
        : "%(n)s diary entries saved on this phone, waiting to be sent.", { n }),
        "pending-count");
    }
  }

  let flushing = null;
  async function flushOnce() {
    let queue = load(QUEUE);
    if (!queue.length) return { sent: 0, auth: false };
    let token;
    try {
      const r = await fetch("/api/csrf", { credentials: "same-origin", cache: "no-store" });
      token = (await r.json()).token;
    } catch (e) {
      return { sent: 0, offline: true };
    }
    let sent = 0;
    const results = {};
    for (const item of queue) {
      let r;
      try {
        r = await fetch(`/api/patients/${item.patient}/diary/entries/${item.id}`, {
          method: "PUT",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify(item.entry),
        });
      } catch (e) {
        return { sent, offline: true, results };
      }
      if (r.status === 401) return { sent, auth: true, results };
      if (r.status >= 500) return { sent, offline: true, results }; // try again later
      if (r.status === 403) continue; // another account's entry on a shared phone: keep it
      queue = load(QUEUE).filter((q) => q.id !== item.id);
      if (r.ok) {
        results[item.id] = await r.json();
        sent += 1;
      } else {
        // Refused by validation (422): it would never succeed; keep it aside, never drop it.
        let error = `refused (${r.status})`;
        try { error = (await r.json()).error || error; } catch (e) { /* not JSON */ }
        const rejected = load(REJECTED);
        rejected.push({ ...item, status: r.status, error });
        save(REJECTED, rejected);
        results[item.id] = { rejected: true, error };
      }
      save(QUEUE, queue);
    }
    return { sent, results };
  }
  function flush() {
    if (!flushing) flushing = flushOnce().finally(() => { flushing = null; });
    return flushing;
  }

  // -- the diary form ------------------------------------------------------------------
  function entryFrom(form) {
    const f = new FormData(form);
    const entry = { entry_date: f.get("entry_date"), pain: Number(f.get("pain")) };
    for (const name of ["sleep", "mood", "energy", "clarity"]) {
      if (f.get(name) !== null && f.get(name) !== "") entry[name] = Number(f.get(name));
    }
    entry.dose_taken = f.get("dose_taken") !== "no";
    if (entry.dose_taken) {
      if (f.get("dose_time")) entry.dose_time = f.get("dose_time");
      if (f.get("dose_mg")) entry.dose_mg = f.get("dose_mg");
    }
    entry.side_effects = f.getAll("side_effects").map((code) => ({
      code, severity: f.get(`severity_${code}`) || "mild",
    }));
    if (f.get("note")) entry.note = f.get("note");
    return entry;
  }

  function draftKey(form) {
    const date = form.querySelector("input[name=entry_date]").value;
    return `ldnkit.diary.draft.${form.dataset.patient}.${date}`;
  }
  function saveDraft(form) {
    const f = new FormData(form);
    const data = {};
    for (const [k, v] of f.entries()) {
      if (k === "csrf_token") continue;
      (data[k] = data[k] || []).push(v);
    }
    localStorage.setItem(draftKey(form), JSON.stringify(data));
  }
  function restoreDraft(form) {
    let data;
    try { data = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { return; }
    if (!data) return;
    for (const el of form.elements) {
      if (!el.name || el.name === "csrf_token" || el.name === "entry_date") continue;
      const vals = data[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = !!vals && vals.includes(el.value);
      } else if (vals) {
        el.value = vals[0];
      }
      el.dispatchEvent(new Event("change"));
    }
    status(t("Your unsaved diary was restored."), "draft-restored");
  }

  function setupDiary(form) {
    const match = form.getAttribute("action").match(/^\/patients\/(\d+)\/diary$/);
    if (!match) return;
    form.dataset.patient = match[1];
    // Offline, a page for another day is served from the cached form: take the day from the URL.
    const day = new URLSearchParams(location.search).get("day");
    const dateInput = form.querySelector("input[name=entry_date]");
    const heading = document.querySelector("h1");
    if (day && /^\d{4}-\d{2}-\d{2}$/.test(day) && day !== dateInput.value) {
      dateInput.value = day;
      const when = new Date(`${day}T12:00:00`).toLocaleDateString(document.documentElement.lang || undefined, {
        weekday: "short", day: "numeric", month: "short", year: "numeric",
      });
      if (heading) heading.textContent = t("Diary for %(date)s", { date: when });
    }
    if (heading) heading.dataset.day = dateInput.value;
    if (!form.querySelector(".invalid")) restoreDraft(form);
    form.addEventListener("input", () => saveDraft(form));
    form.addEventListener("change", () => saveDraft(form));
    form.addEventListener("submit", async (event) => {
      if (!form.reportValidity()) return;
      event.preventDefault();
      const item = { id: uuid(), patient: form.dataset.patient, entry: entryFrom(form) };
      const queue = load(QUEUE);
      queue.push(item);
      save(QUEUE, queue);
      const result = await flush();
      const stored = result.results && result.results[item.id];
      if (stored && stored.rejected) {
        // The patient is here and online: let the server's form say what to fix, next to the
        // field and in words (issue 15). The refused copy is not kept: the form holds it.
        save(REJECTED, load(REJECTED).filter((r) => r.id !== item.id));
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      localStorage.removeItem(draftKey(form));
      if (stored && stored.revision) {
        // The patient goes back to Today; a clinician recording for a patient to their record.
        const own = document.querySelector(`header a[href="/patients/${item.patient}/today"]`);
        location.assign(own ? `/patients/${item.patient}/today?saved=${stored.revision}`
          : `/patients/${item.patient}#diary`);
      } else if (result.auth) {
        location.assign(`/login?next=${encodeURIComponent(`/patients/${item.patient}/diary/new`)}`);
      } else {
        form.reset();
        showPending();
      }
    });
  }

  // Logging out removes the saved copies of this patient's pages from the phone (the queue of
  // unsent entries stays: it is sent after the next login).
  function forgetPages() {
    if (!("caches" in self)) return Promise.resolve();
    return caches.keys().then((keys) => Promise.all(keys.map((k) => caches.open(k).then((c) =>
      c.keys().then((reqs) => Promise.all(reqs
        .filter((req) => new URL(req.url).pathname.startsWith("/patients/"))
        .map((req) => c.delete(req))))))));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const logout = document.querySelector("form[action='/logout']");
    if (logout) {
      logout.addEventListener("submit", (event) => {
        event.preventDefault();
        forgetPages().finally(() => logout.submit());
      });
    }
    const form = document.querySelector("form[data-testid=diary-form]");
    if (form) setupDiary(form);
    showPending();
    if (navigator.onLine) flush().then(showPendingAfter);
  });
  function showPendingAfter(result) {
    if (result && result.sent) status(t(result.sent === 1 ? "%(n)s diary entry sent." : "%(n)s diary entries sent.", { n: result.sent }), "synced");
    showPending();
  }
  window.addEventListener("online", () => flush().then(showPendingAfter));
})();
