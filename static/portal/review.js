// While a submission is being published, reload its review page every few seconds so that the progress
// moves on its own (as on the contributor's status page), unless the curator has started typing.
(function () {
  "use strict";
  var box = document.getElementById("mirror-job");
  if (!box || box.dataset.running !== "1") { return; }
  var typing = false;
  document.addEventListener("input", function () { typing = true; });
  window.setInterval(function () {
    if (!typing) { window.location.reload(); }
  }, 3000);
})();
