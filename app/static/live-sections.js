/* A section marked data-live-events redraws itself when its stream says that something changed:
   it listens to the server-sent events named in data-live-kinds (the mechanism of the SR pages),
   reads the page again and puts the fresh copy of the section in its place, so that what it shows
   is always what the server would render now (due times, stages...), never a guess made here.
   What its data-live-summary says afterwards is announced to screen readers. Without this script,
   or without EventSource, the page is as fresh as its last load. */
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser || !window.liveFeed) return;  // live-feed.js

  function announce(text) {
    var live = document.getElementById("live-said");
    if (live && text) live.textContent = text;
  }

  // Sections that listen to the same stream share one connection: each stream counts against the
  // user's cap of open streams. It starts after data-live-after, the newest event the page was drawn
  // with, so that what happened while the page loaded is replayed, not missed.
  var streams = {};
  document.querySelectorAll("[data-live-events]").forEach(function (section) {
    var url = section.getAttribute("data-live-events"), after = section.getAttribute("data-live-after");
    var stream = streams[url] = streams[url] ||
      {url: after ? url + (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after) : url,
       listeners: []};
    var kinds = (section.getAttribute("data-live-kinds") || "").split(/\s+/).filter(Boolean);
    stream.listeners.push({kinds: kinds, redraw: redrawing(section.id, stop)});

    function stop(listener) {  // nothing more will change in this section
      var index = stream.listeners.indexOf(listener);
      if (index < 0) return;  // stopped already, by a redraw that was asked for meanwhile
      stream.listeners.splice(index, 1);
      if (!stream.listeners.length && stream.feed) stream.feed.close();
    }
  });

  Object.keys(streams).forEach(function (key) {
    var stream = streams[key], kinds = [];
    stream.listeners.forEach(function (listener) {
      listener.kinds.forEach(function (kind) { if (kinds.indexOf(kind) < 0) kinds.push(kind); });
    });
    stream.feed = window.liveFeed(stream.url, kinds, function (event, kind) {
      stream.listeners.slice().forEach(function (listener) {
        if (listener.kinds.indexOf(kind) >= 0) listener.redraw(listener);
      });
    });
  });

  // The section's redraw: it reads the page again and puts the fresh copy in its place, one read at
  // a time (a change that came during a read asks for one more).
  function redrawing(id, stop) {
    var busy = false, again = false;
    return function redraw(listener) {
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
            if (!fresh.hasAttribute("data-live-events")) stop(listener);
            var summary = fresh.querySelector("[data-live-summary]");
            announce(summary ? summary.textContent.replace(/\s+/g, " ").trim() : "");
          }
        })
        .catch(function () { /* the next event, or a reload, brings it */ })
        .then(function () {
          busy = false;
          if (again) { again = false; redraw(listener); }
        });
    };
  }
})();
