// Applies the reader's saved light/dark choice before the page paints (site.js draws the toggle).
(function () {
  try {
    var saved = localStorage.getItem("kb-theme");
    if (saved === "dark" || saved === "light") { document.documentElement.setAttribute("data-theme", saved); }
  } catch (ignored) { /* storage blocked: the system's choice applies */ }
}());
