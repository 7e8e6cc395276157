// Live updates for the job and batch pages: the page's own SSE stream (same change feed as the
// API's), read with the session cookie. Without JavaScript the pages are simply static.
"use strict";
(function () {
  // The page that shows a new key answers a POST: make a reload a plain GET, so it cannot
  // post the form again and make another key.
  if (document.querySelector("[data-testid=new-key]")) {
    window.history.replaceState(null, "", window.location.pathname);
  }
})();
(function () {
  const main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource) return;
  const kind = main.dataset.testid === "page-batch" ? "batch" : "job";
  const bar = main.querySelector(`[data-testid=${kind}-progress]`);
  const badge = main.querySelector(`[data-testid=${kind}-status]`);
  const text = main.querySelector("[data-live-text=progress]");
  const eta = main.querySelector("[data-live-text=eta]");
  const rendered = main.dataset.status;
  const terminal = ["completed", "failed", "cancelled"];
  const source = new EventSource(main.dataset.live);

  function stamp(text) {  // as the templates' `stamp` filter writes times
    return text ? `${text.slice(0, 19).replace("T", " ")}Z` : "—";
  }

  function percentOf(data) {
    const p = data.progress || {};
    if (data.status === "completed" && kind === "job") return 100;
    return Math.round(p.percentage || 0);
  }

  function progressText(data, pct) {
    const p = data.progress || {};
    if (kind === "batch") {
      return `${pct}% · ${p.completed} completed, ${p.failed} failed, ${p.processing} running, ` +
        `${p.pending} pending, ${p.cancelled} cancelled of ${p.total}`;
    }
    let out = `${pct}%`;
    if (p.total) out += ` · ${p.processed}/${p.total}`;
    if (p.message) out += ` · ${p.message}`;
    return out;
  }

  function update(event) {
    const data = JSON.parse(event.data);
    const pct = percentOf(data);
    if (bar) {
      bar.value = pct;
      bar.setAttribute("aria-valuenow", String(pct));
    }
    if (text) text.textContent = progressText(data, pct);
    if (eta && data.timing) eta.textContent = stamp(data.timing.estimated_completion);
    if (badge && data.status) {
      badge.textContent = data.status;
      badge.className = `badge s-${data.status}`;
    }
    // the actions shown depend on the state: a page that is now over reloads once to show them
    if (terminal.includes(data.status) && data.status !== rendered) {
      source.close();
      window.location.reload();
    } else if (terminal.includes(data.status)) {
      source.close();
    }
  }

  for (const name of ["status", "progress", "completed", "failed", "cancelled", "running",
                      "queued", "paused"]) {
    source.addEventListener(name, update);
  }
})();
