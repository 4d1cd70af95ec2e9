// Writer preview only: reload the page when the watcher publishes a new build (server-sent events).
(function () {
  var marker = document.querySelector("[data-preview-build]");
  if (!marker || !window.EventSource) {
    return;
  }
  var since = marker.getAttribute("data-preview-build");
  var source = new EventSource(marker.getAttribute("data-preview-events") + "?since=" + encodeURIComponent(since));
  source.addEventListener("build", function () {
    source.close();
    window.location.reload();
  });
})();
