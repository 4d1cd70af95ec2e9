// Agent workspace: records each copy (site.js copies, confirms and announces it) for the "Most linked" page.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("kb:copied", function (event) {
    var button = event.target;
    var source = button.closest("[data-slug]");
    if (!button.hasAttribute("data-action") || !source) { return; }
    fetch("/agent/track", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.content : "" },
      body: JSON.stringify({
        action: button.getAttribute("data-action"),
        slug: source.getAttribute("data-slug"),
        section: source.getAttribute("data-section") || "",
        query: source.getAttribute("data-query") || ""
      })
    });
  });
}());
