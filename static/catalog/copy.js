// Copy buttons of the dataset page: <button data-copy-target="ID"> copies the text of the element ID.
// Loaded as a file (no inline script) so the page works under a strict Content-Security-Policy.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      // The status next to this button (each copy button has its own), else the page's first.
      var status = (button.parentElement && button.parentElement.querySelector("[data-copy-status]")) ||
        document.querySelector("[data-copy-status]");
      if (!source || !navigator.clipboard) {
        if (status) { status.textContent = "Select the text and copy it by hand."; }
        return;
      }
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (status) { status.textContent = "Copied."; }
      }, function () {
        if (status) { status.textContent = "Copying failed: select the text and copy it by hand."; }
      });
    });
  });
})();
