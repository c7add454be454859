"use strict";
// Shared by every console page: the CSRF token, JSON calls in the API's envelope, formats.
window.Lading = {
  TERMINAL: ["completed", "failed", "cancelled", "reverted"],

  csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  },

  async call(url, body) {
    const options = { credentials: "same-origin", headers: { "x-csrftoken": this.csrf() } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let envelope = null;
    try { envelope = await response.json(); } catch (_) { /* not JSON: reported below */ }
    if (!response.ok || !envelope || !envelope.success) {
      const error = envelope && envelope.error ? envelope.error : { code: String(response.status), message: response.statusText };
      throw new Error(error.code + ": " + error.message);
    }
    return envelope.data;
  },

  number(n) { return n === null || n === undefined ? "" : Number(n).toLocaleString("en-US"); },
  percent(r) { return r === null || r === undefined ? "" : (r * 100).toFixed(2) + " %"; },

  // Fill the [data-role] cells of `root` from one job's progress answer.
  paint(root, job) {
    const set = (role, text) => root.querySelectorAll('[data-role="' + role + '"]').forEach((el) => { el.textContent = text; });
    const pct = job.progress && job.progress.percent !== null ? job.progress.percent : 0;
    root.querySelectorAll('[data-role="progress"]').forEach((el) => { el.value = pct; });
    set("percent", Number(pct).toFixed(1) + " %");
    set("state", job.state.replace(/_/g, " "));
    root.querySelectorAll('[data-role="state"]').forEach((el) => { el.className = "state state-" + job.state; });
    if (job.stage) set("stage", job.stage);
    set("readRows", this.number(job.readRows));
    set("validRows", this.number(job.validRows));
    set("invalidRows", this.number(job.invalidRows));
    set("successRate", this.percent(job.successRate));
    root.dataset.state = job.state;
  },
};
