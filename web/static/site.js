// kb help center: instant search, search shortcuts, the light/dark toggle, the contents' current heading,
// copy buttons. Every page works without it; it only adds to what the server sent.
(function () {
  "use strict";
  var announcer = document.getElementById("announcer");
  var narrow = window.matchMedia("(max-width: 50rem)");

  // Say `text` through the page's polite live region (cleared first, so a repeat is announced too).
  function announce(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- Light/dark toggle: follows the system until the reader picks, then remembers the pick.
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  function isDark() {
    var chosen = root.getAttribute("data-theme");
    return chosen ? chosen === "dark" : systemDark.matches;
  }
  var tools = document.getElementById("header-tools");
  if (tools) {
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "theme-toggle";
    toggle.textContent = "Dark mode";
    var showState = function () { toggle.setAttribute("aria-pressed", isDark() ? "true" : "false"); };
    showState();
    systemDark.addEventListener("change", showState);
    toggle.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("kb-theme", next); } catch (ignored) { /* not remembered, still applied */ }
      showState();
      announce(next === "dark" ? "Dark mode on" : "Dark mode off");
    });
    tools.appendChild(toggle);
  }

  // ---- Copy buttons: any button.copy with data-copy, and one added to each code block.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { legacyCopy(text); });
    }
    legacyCopy(text);
    return Promise.resolve();
  }
  function legacyCopy(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.appendChild(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  function confirmCopied(button) {
    if (!button.hasAttribute("data-label")) { button.setAttribute("data-label", button.textContent); }
    button.textContent = "Copied";
    clearTimeout(button.kbReset);  // a second click restarts the timer instead of saving "Copied" as the label
    button.kbReset = setTimeout(function () { button.textContent = button.getAttribute("data-label"); }, 1500);
    announce("Copied to the clipboard");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy, button.copy-code");
    if (!button) { return; }
    var text = button.classList.contains("copy-code")
      ? button.parentNode.querySelector("pre").innerText.replace(/\n$/, "")
      : button.getAttribute("data-copy");
    copyText(text).then(function () {
      confirmCopied(button);
      button.dispatchEvent(new CustomEvent("kb:copied", { bubbles: true }));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".article-body pre"), function (pre) {
    var block = document.createElement("div");
    block.className = "code-block";
    pre.parentNode.insertBefore(block, pre);
    block.appendChild(pre);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy code";
    block.appendChild(button);
  });

  // ---- "On this page": collapsed on small screens; on wide ones the heading being read is marked.
  var toc = document.querySelector(".toc details");
  if (toc) {
    var fold = function () { toc.open = !narrow.matches; };
    fold();
    narrow.addEventListener("change", fold);
    var links = Array.prototype.slice.call(toc.querySelectorAll("a[href^='#']"));
    var headings = links.map(function (link) { return document.getElementById(decodeURIComponent(link.hash.slice(1))); });
    var marked = null;
    var mark = function () {
      var current = null;
      headings.forEach(function (heading, position) {
        if (heading && heading.getBoundingClientRect().top < window.innerHeight * 0.3) { current = links[position]; }
      });
      if (current === marked) { return; }
      if (marked) { marked.removeAttribute("aria-current"); }
      if (current) { current.setAttribute("aria-current", "true"); }
      marked = current;
    };
    var pending = false;
    window.addEventListener("scroll", function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; mark(); });
    }, { passive: true });
    mark();
  }

  // ---- A results page starts the keyboard at its heading: the first result is one Tab away, not six.
  var resultsHeading = document.querySelector("h1[data-focus-on-load]");
  if (resultsHeading && document.activeElement === document.body && !location.hash) {
    resultsHeading.focus({ preventScroll: true });
  }

  // ---- Search shortcuts: "/" (outside text fields) and Ctrl+K / Cmd+K focus the page's search box.
  var searchBoxes = document.querySelectorAll("input[data-instant]");
  document.addEventListener("keydown", function (event) {
    if (!searchBoxes.length) { return; }
    var target = event.target;
    var typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    var slash = event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey;
    var commandK = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey) && !event.altKey;
    if (slash || commandK) {
      event.preventDefault();
      searchBoxes[0].focus();
      searchBoxes[0].select();
    }
  });

  // ---- Instant search: the WAI-ARIA combobox pattern (list autocomplete) over /api/search.
  Array.prototype.forEach.call(searchBoxes, function (input, boxNumber) {
    var form = input.form;
    var listId = "instant-results-" + boxNumber;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "instant-results";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested articles");
    list.hidden = true;
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    var timer = null;
    var controller = null;
    var active = -1;
    var shownQuery = "";

    function options() { return list.querySelectorAll("[role=option]"); }
    function open(shown) {
      list.hidden = !shown;
      input.setAttribute("aria-expanded", shown ? "true" : "false");
      if (!shown) { select(-1); }
    }
    function select(position) {
      var all = options();
      active = position;
      Array.prototype.forEach.call(all, function (option, index) {
        option.setAttribute("aria-selected", index === position ? "true" : "false");
      });
      if (position >= 0 && all[position]) {
        input.setAttribute("aria-activedescendant", all[position].id);
        all[position].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function option(id, url, parts) {
      var item = document.createElement("li");
      item.id = id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-url", url);
      parts.forEach(function (part) {
        if (!part[1]) { return; }
        var span = document.createElement("span");
        span.className = part[0];
        span.textContent = part[1];
        item.appendChild(span);
      });
      return item;
    }
    function show(query, results) {
      list.textContent = "";
      results.forEach(function (result, index) {
        list.appendChild(option(listId + "-" + index, result.url, [
          ["option-title", result.title], ["option-section", result.section], ["option-snippet", result.snippet]
        ]));
      });
      var all = action().replace(/\?.*$/, "") + "?q=" + encodeURIComponent(query);
      list.appendChild(option(listId + "-all", all, [["option-all", "See all results for “" + query + "”"]]));
      shownQuery = query;
      open(true);
      select(-1);
      announce(results.length
        ? results.length + (results.length === 1 ? " article" : " articles") + " found; use the up and down arrows to choose"
        : "No articles match yet; press Enter to search");
    }
    function action() { return form.getAttribute("action") || "/search"; }
    function search() {
      var query = input.value.trim();
      if (query.length < 2) { open(false); shownQuery = ""; return; }
      if (query === shownQuery) { open(true); return; }
      if (controller) { controller.abort(); }
      controller = new AbortController();
      fetch("/api/search?k=6&q=" + encodeURIComponent(query), { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) { if (body && input.value.trim() === query) { show(query, body.results || []); } })
        .catch(function () { /* offline or aborted: the plain form still works */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      var count = options().length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) { return; }
        event.preventDefault();
        if (list.hidden) { open(true); }
        if (event.key === "ArrowDown") { select(active + 1 < count ? active + 1 : 0); } else { select(active > 0 ? active - 1 : count - 1); }
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        window.location.href = options()[active].getAttribute("data-url");
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); open(false); } else if (input.value) { input.value = ""; shownQuery = ""; }
      }
    });
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus in the box
    list.addEventListener("click", function (event) {
      var chosen = event.target.closest("[role=option]");
      if (chosen) { window.location.href = chosen.getAttribute("data-url"); }
    });
    input.addEventListener("blur", function () { open(false); });
    input.addEventListener("focus", function () { if (shownQuery && input.value.trim() === shownQuery) { open(true); } });
  });
}());
