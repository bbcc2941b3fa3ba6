// ldnkit service worker: the patient's pages stay readable offline.
// Served from /sw.js (scope "/") as a file, so it obeys the app's CSP (script-src 'self').
// Pages: network first, the last good copy when offline, else the offline page; never
// Chrome's "no internet" page. Static files: cache first. API calls are not touched: the
// page script keeps its own queue of diary entries and sends them when back online.
const CACHE = "ldnkit-v1";
const SHELL = [
  "/offline",
  "/static/style.css",
  "/static/app.js",
  "/static/offline.js",
  "/static/icons/icon-192.png",
  "/manifest.webmanifest",
];
// Patient pages worth keeping a copy of (today, diary form, plan, history, questionnaires).
const KEEP = /^\/patients\/\d+\/(today|diary\/new|calendar|history|instruments)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    if (response.ok && KEEP.test(url.pathname) && !response.redirected) {
      const copy = response.clone();
      caches.open(CACHE).then((c) => c.put(url.pathname, copy));
    }
    return response;
  } catch (err) {
    const cache = await caches.open(CACHE);
    return (await cache.match(url.pathname)) || (await cache.match("/offline"));
  }
}

async function asset(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((c) => c.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(asset(request));
  }
});
