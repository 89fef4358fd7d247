/* A section marked data-live-events redraws itself when its stream says that something changed:
   it listens to the server-sent events named in data-live-kinds (the mechanism of the SR pages),
   reads the page again and puts the fresh copy of the section in its place, so that what it shows
   is always what the server would render now (due times, stages...), never a guess made here.
   What its data-live-summary says afterwards is announced to screen readers. Without this script,
   or without EventSource, the page is as fresh as its last load. */
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser || !window.liveStopped) return;  // live-feed.js

  function announce(text) {
    var live = document.getElementById("live-said");
    if (live && text) live.textContent = text;
  }

  // Sections that listen to the same stream share one connection: each stream counts against the
  // user's cap of open streams. It starts after data-live-after, the newest event the page was drawn
  // with, so that what happened while the page loaded is replayed, not missed.
  var sources = {};
  function sourceFor(url, after) {
    if (!sources[url]) {
      var source = sources[url] = new EventSource(
        after ? url + (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after) : url);
      // A refused stream is not tried again by the browser: the page says so (live-feed.js).
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) { window.liveStopped(); }
      });
    }
    return sources[url];
  }

  document.querySelectorAll("[data-live-events]").forEach(function (section) {
    var id = section.id;
    var busy = false, again = false;

    function redraw() {
      if (busy) { again = true; return; }
      busy = true;
      fetch(window.pageAddress(), {credentials: "same-origin"})
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) {
            fresh = document.importNode(fresh, true);
            current.replaceWith(fresh);
            if (!fresh.hasAttribute("data-live-events")) stop();  // nothing more will change here
            var summary = fresh.querySelector("[data-live-summary]");
            announce(summary ? summary.textContent.replace(/\s+/g, " ").trim() : "");
          }
        })
        .catch(function () { /* the next event, or a reload, brings it */ })
        .then(function () {
          busy = false;
          if (again) { again = false; redraw(); }
        });
    }

    var source = sourceFor(section.getAttribute("data-live-events"), section.getAttribute("data-live-after"));
    var kinds = (section.getAttribute("data-live-kinds") || "").split(/\s+/).filter(Boolean);
    kinds.forEach(function (kind) { source.addEventListener(kind, redraw); });

    function stop() {
      kinds.forEach(function (kind) { source.removeEventListener(kind, redraw); });
      var listening = document.querySelectorAll('[data-live-events="' + CSS.escape(section.getAttribute("data-live-events")) + '"]');
      if (!listening.length) source.close();
    }
  });
})();
