/* A live feed of server-sent events that catches up after a reconnection, shared by the SR pages, the
   payments pages, the case page and the customer's progress page. The server sends only what happens
   while a stream is connected; the browser reconnects when the stream's time is up or the network
   dropped it, and this script when the server refused it (a deploy, too many pages open). */
(function () {
  "use strict";

  // Pauses, in seconds, before each new try of a refused stream; after the last, the page says its
  // live updates have stopped. window.liveRetrySeconds, set before this script runs, replaces them.
  var RETRY_SECONDS = [2, 5, 10, 20, 30];

  // liveFeed(url, kinds, onEvent, onReopen): the events named in `kinds`, parsed, to onEvent(event, kind).
  // onReopen(done), when given, runs each time the stream connects again: the events that arrive until
  // it calls done() are held, then handed on in their order, so that nothing it reads is overtaken by
  // an older event. Returns {close()}, or null without EventSource.
  function liveFeed(url, kinds, onEvent, onReopen) {
    if (!window.EventSource) { return null; }
    var retries = window.liveRetrySeconds || RETRY_SECONDS;
    var source = null, connected = false, held = null, lastId = "", tried = 0, timer = null, closed = false;
    // How many events the page has taken in, on <html data-live-events>: what shows, without a
    // fixed pause, that a feed's first events have been applied (the browser tests wait on it).
    function take(item) {
      onEvent(item.event, item.kind);
      var root = document.documentElement;
      root.dataset.liveEvents = String(Number(root.dataset.liveEvents || 0) + 1);
    }
    function connect() {
      timer = null;
      var opened = source = new EventSource(lastId ? resumed(url, lastId) : url);
      // A refused stream (too many open, the server busy or being deployed, signed out) is not tried
      // again by the browser: try it again after a pause, and say so while it is down.
      opened.addEventListener("error", function () {
        if (opened.readyState !== EventSource.CLOSED || closed) { return; }
        if (tried >= retries.length) { stopped(); return; }
        interrupted(retries[tried]);
        timer = setTimeout(connect, retries[tried++] * 1000);
      });
      opened.addEventListener("open", function () {
        tried = 0;
        resumedNotice();
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
        opened.addEventListener(kind, function (message) {
          if (message.lastEventId) { lastId = message.lastEventId; }
          var item = {event: JSON.parse(message.data), kind: kind};
          if (held) { held.push(item); } else { take(item); }
        });
      });
    }
    connect();
    return {
      close: function () {
        closed = true;
        if (timer) { clearTimeout(timer); }
        source.close();
      }
    };
  }

  // The stream's address for a new connection after `lastId`, the last event this page took in: a
  // stream that replays from `after` starts there (as the browser's own reconnection would, with
  // Last-Event-ID); a feed given `since` (what changed since the page read its rows) is told nothing
  // of it, as the page reads itself again instead (onReopen).
  function resumed(url, lastId) {
    var address = new URL(url, location.href);
    address.searchParams.delete("since");
    if (address.searchParams.has("after")) { address.searchParams.set("after", lastId); }
    return address.href;
  }

  // The page's notice about its live updates, put in place as a new element each time it changes
  // kind: screen readers announce a live region that is inserted, not one whose role is changed.
  function notice(role, className) {
    var main = document.getElementById("main");
    if (!main) { return null; }
    var shown = document.getElementById("live-stopped");
    if (shown && shown.getAttribute("role") === role) { return shown; }
    if (shown) { shown.remove(); }
    shown = document.createElement("p");
    shown.id = "live-stopped";
    shown.className = className;
    shown.setAttribute("role", role);
    main.insertBefore(shown, main.firstChild);
    return shown;
  }

  function interrupted(seconds) {
    var shown = document.getElementById("live-stopped");
    if (shown && shown.getAttribute("role") === "alert") { return; }
    shown = notice("status", "flash");
    // Filled once in place: a status region announces a change of its text, not the text it came with.
    setTimeout(function () {
      shown.textContent = "Live updates on this page are interrupted; trying again in " + seconds +
        (seconds === 1 ? " second." : " seconds.");
    }, 50);
  }

  function resumedNotice() {
    var shown = document.getElementById("live-stopped");
    if (shown && shown.getAttribute("role") === "status") { shown.remove(); }
  }

  function stopped() {
    var shown = document.getElementById("live-stopped");
    if (shown && shown.getAttribute("role") === "alert") { return; }
    shown = notice("alert", "flash flash-error");
    shown.innerHTML = "Live updates have stopped on this page: too many pages with live updates are open, " +
      'the server is busy, or you were signed out. <a href="">Reload</a> to see what changed and to start them again.';
    shown.querySelector("a").href = pageAddress();
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
})();
