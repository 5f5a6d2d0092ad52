// Copy buttons of the dataset page: <button data-copy-target="ID"> copies the text of the element ID.
// Loaded as a file (no inline script) so the page works under a strict Content-Security-Policy.
// What the status says comes from its data-copied, data-copy-failed and data-copy-by-hand attributes (the
// page's language), English when they are missing.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      // The status next to this button (each copy button has its own), else the page's first.
      var status = (button.parentElement && button.parentElement.querySelector("[data-copy-status]")) ||
        document.querySelector("[data-copy-status]");
      function say(name, english) {
        if (status) { status.textContent = status.getAttribute(name) || english; }
      }
      if (!source || !navigator.clipboard) {
        say("data-copy-by-hand", "Select the text and copy it by hand.");
        return;
      }
      navigator.clipboard.writeText(source.textContent).then(function () {
        say("data-copied", "Copied.");
      }, function () {
        say("data-copy-failed", "Copying failed: select the text and copy it by hand.");
      });
    });
  });
})();
