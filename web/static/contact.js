// Contact form: while the customer types the subject and description, articles that may answer appear.
// Results are written with textContent only; each link records that it was opened for this form session.
(function () {
  "use strict";
  var form = document.querySelector("form.contact-form");
  if (!form || !window.fetch) { return; }
  var subject = form.querySelector("#contact-subject");
  var description = form.querySelector("#contact-description");
  var shown = form.querySelector("#contact-shown");
  var live = document.getElementById("contact-live");
  var list = document.getElementById("contact-live-list");
  var openUrl = form.getAttribute("data-open");
  var formToken = form.getAttribute("data-form");
  var timer = null;
  var latest = 0;
  var MOST_SHOWN = 20;

  function remember(slug) {
    var slugs = shown.value ? shown.value.split(" ") : [];
    if (slugs.indexOf(slug) === -1 && slugs.length < MOST_SHOWN) {
      slugs.push(slug);
      shown.value = slugs.join(" ");
    }
  }

  function openLink(result) {
    var anchor = (result.url.split("#")[1] || "");
    var params = new URLSearchParams({ form: formToken, slug: result.slug });
    if (anchor) { params.set("section", decodeURIComponent(anchor)); }
    return openUrl + "?" + params.toString();
  }

  function render(results) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    results.forEach(function (result) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = openLink(result);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = result.title;
      item.appendChild(link);
      if (result.section) {
        var section = document.createElement("span");
        section.className = "muted";
        section.textContent = " · " + result.section;
        item.appendChild(section);
      }
      list.appendChild(item);
      remember(result.slug);
    });
    live.hidden = results.length === 0;
  }

  function search() {
    var text = (subject.value + " " + description.value).trim().slice(0, 500);
    if (text.length < 4) { render([]); return; }
    var request = ++latest;
    fetch("/api/search?k=3&q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : { results: [] }; })
      .then(function (body) { if (request === latest) { render(body.results || []); } })
      .catch(function () { /* suggestions are a help, never a hindrance: the form works without them */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(search, 400);
  }

  subject.addEventListener("input", schedule);
  description.addEventListener("input", schedule);
  if (subject.value) { schedule(); }
}());
