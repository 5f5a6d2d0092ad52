// After a refused form post, move the focus to the error summary, so that keyboard and screen-reader users
// land on the list of problems (the summary has tabindex="-1" and role="alert").
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
