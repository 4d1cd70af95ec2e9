// Writer preview only: reload the page once the watcher has published a new build.
// A short request every second and a half: no connection is held open, so any server serves it.
(function () {
  var marker = document.querySelector("[data-preview-build]");
  if (!marker || !window.fetch) {
    return;
  }
  var shown = marker.getAttribute("data-preview-build");
  var url = marker.getAttribute("data-preview-events");
  function check() {
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (published) {
        if (published && published.build && published.build !== shown) {
          window.location.reload();
        } else {
          window.setTimeout(check, 1500);
        }
      })
      .catch(function () {
        window.setTimeout(check, 5000); // the server is restarting: try again a little later
      });
  }
  window.setTimeout(check, 1500);
})();
