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
    source.addEventListener("open", function () {
      if (connected && onReopen && !held) {
        held = [];
        onReopen(function () {
          var waiting = held;
          held = null;
          waiting.forEach(onEvent);
        });
      }
      connected = true;
    });
    kinds.forEach(function (kind) {
      source.addEventListener(kind, function (message) {
        var event = JSON.parse(message.data);
        if (held) { held.push(event); } else { onEvent(event); }
      });
    });
    return source;
  }

  // rereadPage(apply, done): this page as the server draws it now, parsed, to apply(); then done(),
  // whatever happened (without fetch, or on a failure, the next event or a reload brings it).
  function rereadPage(apply, done) {
    if (!window.fetch || !window.DOMParser) { done(); return; }
    fetch(location.pathname + location.search, {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html) { apply(new DOMParser().parseFromString(html, "text/html")); } })
      .catch(function () { /* the next event, or a reload, brings it */ })
      .then(done);
  }

  window.liveFeed = liveFeed;
  window.rereadPage = rereadPage;
})();
