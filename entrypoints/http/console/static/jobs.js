"use strict";
// The jobs list: rows of unfinished jobs follow their progress without a reload.
(function () {
  const INTERVAL_MS = 1000;
  const active = () => Array.from(document.querySelectorAll("tr[data-job-id]"))
    .filter((row) => !Lading.TERMINAL.includes(row.dataset.state));

  async function poll() {
    const rows = active();
    if (!rows.length) return;
    try {
      const ids = rows.map((row) => row.dataset.jobId).join(",");
      const jobs = await Lading.call("/console/api/jobs/progress?ids=" + encodeURIComponent(ids));
      for (const job of jobs) {
        const row = document.querySelector('tr[data-job-id="' + job.jobId + '"]');
        if (row) Lading.paint(row, job);
      }
    } catch (_) { /* a missed poll is retried on the next tick */ }
    setTimeout(poll, INTERVAL_MS);
  }
  setTimeout(poll, INTERVAL_MS);
})();
