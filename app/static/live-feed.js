/* A live feed of server-sent events that catches up after a reconnection, shared by the SR pages and
   the payments pages. The server sends only what happens while a stream is connected; the browser
   reconnects when the stream's time is up or the network dropped it. */
(function () {
  "use strict";

  // liveFeed(url, kinds, onEvent, onReopen): the events named in `kinds`, parsed, to onEvent.
  // onReopen(done), when given, runs each time the stream connects again: the events that arrive until
  // it calls done() are held, then handed on in their order, so that nothing it reads is overtaken by
  // an older event.
  function liveFeed(url, kinds, onEvent, onReopen) {
    if (!window.EventSource) { return null; }
    var source = new EventSource(url);
    var connected = false, held = null;
    // How many events the page has taken in, on <html data-live-events>: what shows, without a
    // fixed pause, that a feed's first events have been applied (the browser tests wait on it).
    function take(event) {
      onEvent(event);
      var root = document.documentElement;
      root.dataset.liveEvents = String(Number(root.dataset.liveEvents || 0) + 1);
    }
    // A refused stream (too many open, the server busy, signed out) is not tried again by the browser:
    // say so, rather than leave a page that looks live and is not.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) { stopped(); }
    });
    source.addEventListener("open", function () {
      if (connected && onReopen && !held) {
        held = [];
        onReopen(function () {
          var waiting = held;
          held = null;
          waiting.forEach(take);
        });
      }
      connected = true;
    });
    kinds.forEach(function (kind) {
      source.addEventListener(kind, function (message) {
        var event = JSON.parse(message.data);
        if (held) { held.push(event); } else { take(event); }
      });
    });
    return source;
  }

  function stopped() {
    var main = document.getElementById("main");
    if (!main || document.getElementById("live-stopped")) { return; }
    var notice = document.createElement("p");
    notice.id = "live-stopped";
    notice.className = "flash flash-error";
    notice.setAttribute("role", "alert");
    notice.innerHTML = "Live updates have stopped on this page: too many pages with live updates are open, " +
      'the server is busy, or you were signed out. <a href="">Reload</a> to see what changed and to start them again.';
    notice.querySelector("a").href = pageAddress();
    main.insertBefore(notice, main.firstChild);
  }

  // This page's own address: a page drawn in answer to a form's post names it (base.html), as the form's is
  // another.
  function pageAddress() {
    var canonical = document.querySelector('link[rel="canonical"]');
    return canonical ? canonical.href : location.pathname + location.search;
  }

  // rereadPage(apply, done): this page as the server draws it now, parsed, to apply(); then done(),
  // whatever happened (without fetch, or on a failure, the next event or a reload brings it).
  function rereadPage(apply, done) {
    if (!window.fetch || !window.DOMParser) { done(); return; }
    fetch(pageAddress(), {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html) { apply(new DOMParser().parseFromString(html, "text/html")); } })
      .catch(function () { /* the next event, or a reload, brings it */ })
      .then(done);
  }

  window.liveFeed = liveFeed;
  window.rereadPage = rereadPage;
  window.pageAddress = pageAddress;
  window.liveStopped = stopped;
})();
