// Live SR pages: server-sent events update the SR page and the queue page without a reload.
(function () {
  "use strict";
  var KINDS = ["opened", "status", "assignment", "severity", "message", "management_escalation", "rma",
               "attachment"];

  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function human(value) { return text(value).replace(/_/g, " "); }
  function announce(message) {
    var live = document.getElementById("live");
    if (live) { live.textContent = message; }
  }
  function setField(scope, name, html) {
    var cell = scope.querySelector('[data-field="' + name + '"]');
    if (cell) { cell.innerHTML = html; }
  }
  function escapeHtml(value) {
    var div = document.createElement("div");
    div.textContent = text(value);
    return div.innerHTML;
  }
  function statusHtml(value) {
    return '<span class="status st-' + escapeHtml(value) + '">' + escapeHtml(human(value)) + "</span>";
  }
  function severityHtml(value) {
    return '<span class="badge sev-' + escapeHtml(value) + '">' + escapeHtml(value) + "</span>";
  }
  function dueHtml(event) {
    if (!event.sla_due_at) { return '<span class="muted">paused</span>'; }
    var due = new Date(event.sla_due_at);
    var shown = due.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    var html = '<time datetime="' + escapeHtml(event.sla_due_at) + '">' + shown + "</time>";
    return due <= new Date() ? html + ' <strong class="breach">overdue</strong>' : html;
  }
  function listen(url, onEvent, onReopen) {
    if (window.liveFeed) { window.liveFeed(url, KINDS, onEvent, onReopen); }  // live-feed.js
  }

  // The SR page: its fields, thread and timeline.
  var card = document.querySelector("[data-sr-events]");
  if (card) {
    listen(card.dataset.srEvents, function (event) {
      setField(card, "status", statusHtml(event.status));
      setField(card, "severity", severityHtml(event.severity));
      setField(card, "queue", escapeHtml(event.queue));
      setField(card, "assignee", escapeHtml(event.assignee || "—"));
      setField(card, "management_level", event.management_level ? "level " + event.management_level : "none");
      var timeline = document.getElementById("timeline");
      if (timeline) {
        var item = document.createElement("li");
        var what = event.kind === "status" ? human(event.from) + " → " + human(event.to)
          : event.kind === "attachment" && event.data ? "file " + text(event.data.filename) : human(event.kind);
        item.textContent = event.at.slice(0, 16).replace("T", " ") + " UTC · " + text(event.actor) + ": " + what +
          (event.note ? " — " + event.note : "");
        timeline.insertBefore(item, timeline.firstChild);
      }
      if (event.kind === "message" && event.data && event.data.body) {
        var thread = document.getElementById("thread");
        var empty = thread && thread.querySelector(".empty");
        if (empty) { empty.remove(); }
        if (thread && !document.getElementById("message-" + event.data.message_id)) {
          var entry = document.createElement("li");
          entry.id = "message-" + event.data.message_id;
          entry.innerHTML = '<p class="meta"><strong>' + escapeHtml(event.actor) + "</strong></p>" +
            '<p class="prose">' + escapeHtml(event.data.body) + "</p>";
          thread.appendChild(entry);
        }
      }
      var actions = document.getElementById("actions");
      if (actions && event.kind === "status") {
        actions.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
        if (!actions.querySelector(".stale")) {
          var stale = document.createElement("p");
          stale.className = "stale flash";
          stale.innerHTML = 'The SR has moved on. <a href="">Reload</a> for the actions that apply now.';
          // The SR's own address, also on a page drawn in answer to a refused form.
          stale.querySelector("a").href = window.pageAddress();
          actions.insertBefore(stale, actions.children[1]);
        }
      }
      announce(event.sr_number + " is now " + human(event.status) + ".");
    });
  }

  // The queue page's rows as the server draws them now: the feed sends only what happens while it is
  // connected, so what happened while it reconnected is read with the page. A row that came into the
  // list is marked as changed; one still marked (its highlight not over) stays marked.
  function reread(done) {
    window.rereadPage(function (page) {
      var fresh = page.querySelector("[data-sr-feed] tbody");
      var current = table.querySelector("tbody");
      if (!fresh || !current) { return; }
      var body = document.importNode(fresh, true);
      body.querySelectorAll("tr[data-sr]").forEach(function (row) {
        var before = current.querySelector('tr[data-sr="' + row.dataset.sr + '"]');
        if (!before || before.classList.contains("changed")) { row.classList.add("changed"); }
      });
      current.replaceWith(body);
    }, done);
  }

  // Reads of the page one at a time, at most one a second, whoever asks (a narrowed list after a
  // change, any list when its feed connects again): an older read never lands after a newer one.
  var rereading = false, again = false, waiting = [];
  function rereadSoon(done) {
    if (done) { waiting.push(done); }
    if (rereading) { again = true; return; }
    rereading = true;
    var these = waiting;
    waiting = [];
    reread(function () {
      these.forEach(function (call) { call(); });
      setTimeout(function () {
        rereading = false;
        if (again) { again = false; rereadSoon(); }
      }, 1000);
    });
  }
  // What cannot move an SR into a narrowed list or out of it (its queue, status, severity, engineer).
  var STAYS = ["message", "attachment", "rma"];

  // The queue page: update the SR's row, or add the row of a newly opened SR.
  var table = document.querySelector("[data-sr-feed]");
  if (table) {
    // A highlight is over once its animation ends: a later read of the page does not play it again.
    table.addEventListener("animationend", function (event) { event.target.classList.remove("changed"); });
    listen(table.dataset.srFeed, function (event) {
      var body = table.querySelector("tbody");
      var row = body.querySelector('tr[data-sr="' + event.sr_number + '"]');
      var narrowed = table.dataset.srNarrowed !== undefined;
      var mayMove = narrowed && STAYS.indexOf(event.kind) < 0;
      if (!row && narrowed) {
        if (mayMove) { rereadSoon(); }
        return;
      }
      if (!row && event.kind === "opened") {
        var empty = body.querySelector("tr.empty");
        if (empty) { empty.remove(); }
        row = document.createElement("tr");
        row.dataset.sr = event.sr_number;
        var link = table.dataset.srBase + "/" + encodeURIComponent(event.sr_number);
        // The same cells and phone labels (data-label) as the server's rows.
        row.innerHTML = '<td class="mono" data-label="SR"><a href="' + link + '">' + escapeHtml(event.sr_number) + "</a></td>" +
          '<td data-field="severity" data-label="Severity"></td><td data-label="Title">New SR</td>' +
          (table.querySelectorAll("thead th").length > 7 ?
            '<td data-field="queue" data-label="Queue"></td><td data-label="Partner"></td>' : "") +
          '<td data-field="status" data-label="Status"></td><td data-field="assignee" data-label="Engineer"></td>' +
          '<td data-field="sla_due_at" data-label="SLA due"></td><td data-field="management_level" data-label="Mgmt"></td>';
        body.insertBefore(row, body.firstChild);
      }
      if (!row) { return; }
      var shown = row.textContent;
      setField(row, "status", statusHtml(event.status));
      setField(row, "severity", severityHtml(event.severity));
      setField(row, "queue", escapeHtml(event.queue));
      setField(row, "assignee", escapeHtml(event.assignee || "—"));
      setField(row, "sla_due_at", dueHtml(event));
      setField(row, "management_level", event.management_level ? String(event.management_level) : "");
      // What the first connection sends again of a change the page's rows already show: no news.
      if (event.replayed && row.textContent === shown) { return; }
      if (mayMove) { rereadSoon(); }
      row.classList.remove("changed");
      void row.offsetWidth;
      row.classList.add("changed");
      announce(event.sr_number + " is now " + human(event.status) + ".");
    }, rereadSoon);
  }
})();
