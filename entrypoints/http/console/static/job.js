"use strict";
// A job page: while the job runs, counters and progress follow it; once it stops (finished,
// failed or waiting for a decision) the page reloads to show the full report.
(function () {
  const INTERVAL_MS = 1000;
  const root = document.getElementById("job");
  if (!root) return;
  const settled = (state) => Lading.TERMINAL.includes(state) || state === "needs_attention";
  const waiting = (state) => state === "pending" || state === "ready";
  if (settled(root.dataset.state) || waiting(root.dataset.state)) return;

  async function poll() {
    try {
      const jobs = await Lading.call("/console/api/jobs/progress?ids=" + root.dataset.jobId);
      if (jobs.length) {
        const job = jobs[0];
        Lading.paint(document.body, job);
        if (settled(job.state)) { window.location.reload(); return; }
      }
    } catch (_) { /* retried on the next tick */ }
    setTimeout(poll, INTERVAL_MS);
  }
  setTimeout(poll, INTERVAL_MS);
})();
