"use strict";
// The mapping editor: each change of a field or of the mode asks the server how many of the
// sampled values would pass, and shows it per column.
(function () {
  const form = document.getElementById("mapping-form");
  if (!form) return;
  const note = document.getElementById("prediction-note");
  const mode = document.getElementById("import-mode");
  const policy = document.getElementById("review-policy");
  const ratio = document.getElementById("ratio-label");
  let timer = null;
  let asked = 0;

  const rows = () => Array.from(form.querySelectorAll("tr[data-column]"));

  async function predict() {
    const fieldMap = {};
    for (const row of rows()) {
      const field = row.querySelector('[data-role="field"]').value;
      if (field) fieldMap[row.dataset.column] = field;
    }
    const mine = ++asked;
    try {
      const answer = await Lading.call("/console/api/jobs/" + form.dataset.jobId + "/predict",
        { fieldMap: fieldMap, importMode: mode.value });
      if (mine !== asked) return; // a newer question is on its way
      for (const row of rows()) {
        const cell = row.querySelector('[data-role="predicted"]');
        const share = answer.columns[row.dataset.column];
        cell.textContent = share === undefined || share === null ? "—" : Lading.percent(share);
        cell.classList.toggle("low", share !== undefined && share !== null && share < 0.95);
      }
      note.textContent = answer.error
        ? "This mapping would be refused: " + answer.error
        : Lading.number(answer.validRows) + " of the first " + Lading.number(answer.sampledRows) + " rows would be valid in " + mode.value.replace(/_/g, " ") + " mode.";
      note.classList.toggle("alert", Boolean(answer.error));
    } catch (error) {
      note.textContent = "No prediction: " + error.message;
    }
  }
  const soon = () => { clearTimeout(timer); timer = setTimeout(predict, 250); };
  form.addEventListener("change", (event) => {
    if (event.target.matches('[data-role="field"]') || event.target === mode) soon();
  });
  const showRatio = () => { ratio.hidden = policy.value !== "ratio"; };
  policy.addEventListener("change", showRatio);
  showRatio();
  predict();
})();
