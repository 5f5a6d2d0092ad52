// Refreshes the publication progress bar on a submission's status page without a full reload.
(function () {
  "use strict";
  var box = document.getElementById("publication");
  if (!box || box.dataset.published === "1") { return; }
  var url = box.dataset.progressUrl;
  function update() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.published || ["published", "mirror_failed"].indexOf(data.state) >= 0) {
          window.location.reload();
          return;
        }
        var step = document.getElementById("publication-step");
        var bar = document.getElementById("publication-bar");
        var wrap = document.getElementById("publication-progress");
        if (step) { step.textContent = data.step_label; }
        if (bar && data.percent !== null && data.percent !== undefined) {
          bar.style.width = data.percent + "%";
          bar.textContent = data.percent + " %";
          wrap.setAttribute("aria-valuenow", data.percent);
        }
        window.setTimeout(update, 3000);
      })
      .catch(function () { window.setTimeout(update, 10000); });
  }
  window.setTimeout(update, 3000);
})();
