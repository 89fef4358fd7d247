// Live payments pages: a payout's new state redraws its row and its claim's cells without a reload
// (server-sent events from the payout feed, as on the SR pages).
(function () {
  "use strict";
  var table = document.querySelector("[data-payout-feed]");
  if (!table || !window.EventSource || !window.liveFeed) { return; }

  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function human(value) { return text(value).replace(/_/g, " "); }
  function statusBadge(value) {
    var badge = document.createElement("span");
    badge.className = "status st-" + text(value);
    badge.textContent = human(value);
    return badge;
  }
  // put(cell, value) and putText(cell, value): whether the cell showed something else before.
  function put(cell, value) {
    if (!cell || cell.querySelector(".st-" + value)) { return false; }
    cell.textContent = "";
    cell.appendChild(statusBadge(value));
    return true;
  }
  function putText(cell, value) {
    if (!cell || cell.textContent === text(value)) { return false; }
    cell.textContent = text(value);
    return true;
  }
  function flash(row) {
    row.classList.remove("changed");
    void row.offsetWidth;
    row.classList.add("changed");
  }
  function announce(message) {
    var live = document.getElementById("live");
    if (live) { live.textContent = message; }
  }

  function markStale() {
    var stale = document.getElementById("balances-stale");
    if (stale) { stale.hidden = false; }
  }

  // After a reconnection the page is read again (live-feed.js) and its rows' states are taken from the
  // fresh copy, leaving the rows themselves (and any box ticked in them) in place.
  function catchUp(done) {
    window.rereadPage(function (fresh) {
      var changed = false;
      fresh.querySelectorAll("tr[data-payout] [data-field], tr[data-claim] [data-field]").forEach(function (cell) {
        var row = cell.closest("tr");
        var key = row.hasAttribute("data-payout") ? 'tr[data-payout="' + row.getAttribute("data-payout") + '"]'
                                                  : 'tr[data-claim="' + row.getAttribute("data-claim") + '"]';
        var field = ' [data-field="' + cell.getAttribute("data-field") + '"]';
        document.querySelectorAll(key + field).forEach(function (mine) {
          if (mine.textContent.trim() !== cell.textContent.trim()) {
            mine.innerHTML = cell.innerHTML;
            flash(mine.closest("tr"));
            changed = true;
          }
        });
      });
      if (changed) { markStale(); }
    }, done);
  }

  window.liveFeed(table.dataset.payoutFeed, ["payout"], apply, catchUp);

  function apply(event) {
    var changed = false;
    var row = document.querySelector('tr[data-payout="' + event.payout_id + '"]');
    if (row) {
      var moved = put(row.querySelector('[data-field="status"]'), event.status);
      moved = putText(row.querySelector('[data-field="paid"]'), event.paid) || moved;
      if (moved) { flash(row); changed = true; }
    }
    document.querySelectorAll('tr[data-claim="' + event.claim_id + '"]').forEach(function (claim) {
      var moved = put(claim.querySelector('[data-field="claim-status"]'), event.claim_status);
      moved = put(claim.querySelector('[data-field="payment"]'), event.status) || moved;
      if (moved) { flash(claim); changed = true; }
    });
    // A change the page already shows (the first connection sends what changed around the page's read).
    if (row && !changed) { return; }
    // Balances and the pipeline are sums the page does not recompute: say they are older.
    markStale();
    announce("Payment " + event.reference + " (" + event.amount + ") is now " + human(event.status) + "." +
             (row ? "" : " Reload to see it in the list."));
  }
}());
