// Live payments pages: a payout's new state redraws its row and its claim's cells without a reload
// (server-sent events from the payout feed, as on the SR pages).
(function () {
  "use strict";
  var table = document.querySelector("[data-payout-feed]");
  if (!table || !window.EventSource) { return; }

  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function human(value) { return text(value).replace(/_/g, " "); }
  function statusBadge(value) {
    var badge = document.createElement("span");
    badge.className = "status st-" + text(value);
    badge.textContent = human(value);
    return badge;
  }
  function put(cell, value) {
    if (!cell) { return; }
    cell.textContent = "";
    cell.appendChild(statusBadge(value));
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

  var source = new EventSource(table.dataset.payoutFeed);
  source.addEventListener("payout", function (message) {
    var event = JSON.parse(message.data);
    var row = document.querySelector('tr[data-payout="' + event.payout_id + '"]');
    if (row) {
      put(row.querySelector('[data-field="status"]'), event.status);
      var paid = row.querySelector('[data-field="paid"]');
      if (paid) { paid.textContent = text(event.paid); }
      flash(row);
    }
    document.querySelectorAll('tr[data-claim="' + event.claim_id + '"]').forEach(function (claim) {
      put(claim.querySelector('[data-field="claim-status"]'), event.claim_status);
      put(claim.querySelector('[data-field="payment"]'), event.status);
      flash(claim);
    });
    // Balances and the pipeline are sums the page does not recompute: say they are older.
    var stale = document.getElementById("balances-stale");
    if (stale) { stale.hidden = false; }
    announce("Payment " + event.reference + " (" + event.amount + ") is now " + human(event.status) + "." +
             (row ? "" : " Reload to see it in the list."));
  });
}());
