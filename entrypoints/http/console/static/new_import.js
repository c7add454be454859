"use strict";
// New import: create the job, stream the file to its signed upload URL with a progress bar,
// then go on to the mapping editor.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file");
  const zone = document.getElementById("dropzone");
  const chosen = document.getElementById("chosen");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("upload");

  const object = document.getElementById("object");
  const configuration = document.getElementById("configuration");
  // A configuration names its object: the object list follows it and cannot be changed.
  const follow = () => {
    const option = configuration && configuration.selectedOptions[0];
    const chosenObject = option && option.value ? option.dataset.object : null;
    if (chosenObject) object.value = chosenObject;
    object.disabled = Boolean(chosenObject);
  };
  if (configuration) { configuration.addEventListener("change", follow); follow(); }

  const show = () => {
    const file = input.files[0];
    chosen.textContent = file ? file.name + " · " + Lading.number(file.size) + " bytes" : "";
  };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });

  function put(slot, file) {
    // XMLHttpRequest, not fetch: only it reports upload progress.
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(slot.method, slot.uploadUrl);
      Object.entries(slot.headers || {}).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) { bar.value = 100; resolve(); return; }
        let message = "upload refused (" + xhr.status + ")";
        try { const e = JSON.parse(xhr.responseText).error; message = e.code + ": " + e.message; } catch (_) { /* keep */ }
        reject(new Error(message));
      });
      xhr.addEventListener("error", () => reject(new Error("the upload did not reach the server")));
      xhr.send(file);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) { status.textContent = "Choose a file first."; return; }
    if (file.size > Number(form.dataset.maxSize)) { status.textContent = "The file is over this installation's size limit."; return; }
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Uploading " + file.name + "…";
    try {
      const through = configuration ? configuration.value : "";
      const slot = await Lading.call("/console/api/jobs", through
        ? { configurationId: through, fileName: file.name, fileSize: file.size }
        : { objectName: object.value, fileName: file.name, fileSize: file.size });
      await put(slot, file);
      status.textContent = "Uploaded. Opening the mapping editor…";
      window.location.assign("/console/jobs/" + slot.jobId + "/mapping");
    } catch (error) {
      status.textContent = "Not uploaded: " + error.message;
      button.disabled = false;
    }
  });
})();
