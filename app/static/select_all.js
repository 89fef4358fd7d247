"use strict";
// "Select all claims" ticks or clears every claim checkbox of its form; it shows a mixed state for some.
document.querySelectorAll("input[data-selects]").forEach(function (all) {
  var boxes = Array.from(document.querySelectorAll('input[name="claim_id"][form="' + all.dataset.selects + '"]'));
  function sync() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  all.closest(".select-all").hidden = false;
  sync();
});
