/* On a page of many forms, sending one reloads the page: text typed into the others and not sent
   yet would be lost. This keeps such text in the tab (sessionStorage) as it is typed, puts it back
   after the reload, says so beside the field, and forgets it once its own form is sent.
   Never kept: forms or fields marked autocomplete="off" (bank details, secrets), passwords, files.
   Text is put back only while the field still shows what the server showed when it was typed,
   so a draft never hides a newer saved answer. Forms marked data-drafts-choices keep their ticked
   boxes and chosen radio buttons the same way. Without this script every form works as before. */
(function () {
  "use strict";
  // A page answered to a refused form (at the form's address) names the page it stands for,
  // so that what was typed on that page comes back there too.
  var scope = document.querySelector("meta[name=drafts-scope]");
  var PREFIX = "draft:" + (scope ? scope.getAttribute("content") : location.pathname) + ":";
  var MAX_AGE_MS = 12 * 3600 * 1000;
  var TEXT = "textarea, input:not([type]), input[type=text], input[type=url], input[type=email], " +
             "input[type=search], input[type=number]";

  function kept(field) {
    var form = field.form;
    return !!form && (form.getAttribute("method") || "").toLowerCase() === "post" && !!field.name &&
      field.name !== "csrf_token" && field.matches(TEXT) && !field.readOnly &&
      form.getAttribute("autocomplete") !== "off" && field.getAttribute("autocomplete") !== "off";
  }

  function key(field) {
    return PREFIX + (field.form.getAttribute("action") || "") + ":" + (field.id || field.name);
  }

  var CHOICE = "input[type=checkbox], input[type=radio]";

  function keptChoice(field) {
    var form = field.form;
    return !!form && form.hasAttribute("data-drafts-choices") && !!field.name && field.matches(CHOICE);
  }

  function choiceKey(field) {
    var what = field.type === "radio" ? "radio:" + field.name : (field.id || field.name);
    return PREFIX + (field.form.getAttribute("action") || "") + ":" + what;
  }

  function radios(field) {
    return Array.prototype.filter.call(field.form.elements, function (other) {
      return other.type === "radio" && other.name === field.name;
    });
  }

  function shownChoice(field) {
    if (field.type !== "radio") return field.defaultChecked;
    var shown = radios(field).filter(function (r) { return r.defaultChecked; })[0];
    return shown ? shown.value : "";
  }

  function currentChoice(field) {
    if (field.type !== "radio") return field.checked;
    var chosen = radios(field).filter(function (r) { return r.checked; })[0];
    return chosen ? chosen.value : "";
  }

  function rememberChoice(field) {
    try {
      var chosen = currentChoice(field), shown = shownChoice(field);
      if (chosen === shown) sessionStorage.removeItem(choiceKey(field));
      else sessionStorage.setItem(choiceKey(field), JSON.stringify({value: chosen, shown: shown, at: Date.now()}));
    } catch (full) { /* storage full or refused: the page works without drafts */ }
  }

  function restoreChoices(root) {
    var done = {};
    root.querySelectorAll(CHOICE).forEach(function (field) {
      if (!keptChoice(field)) return;
      var key = choiceKey(field);
      if (done[key]) return;
      done[key] = true;
      var stored;
      try { stored = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (bad) { stored = null; }
      if (!stored) return;
      var shown = shownChoice(field);
      if (Date.now() - stored.at > MAX_AGE_MS || stored.shown !== shown) { sessionStorage.removeItem(key); return; }
      if (currentChoice(field) !== shown || stored.value === shown) return;
      var target = field;
      if (field.type === "radio") {
        target = radios(field).filter(function (r) { return r.value === stored.value; })[0];
        if (!target) return;
        target.checked = true;
      } else {
        field.checked = stored.value;
      }
      target.dispatchEvent(new Event("change", {bubbles: true}));  // "does not apply" and the like follow
      note(target, target.closest("fieldset") || target.closest(".check") || target);
    });
  }

  function remember(field) {
    try {
      if (field.value === field.defaultValue) sessionStorage.removeItem(key(field));
      else sessionStorage.setItem(key(field), JSON.stringify({value: field.value, shown: field.defaultValue,
                                                               at: Date.now()}));
    } catch (full) { /* storage full or refused: the page works without drafts */ }
  }

  function note(field, after) {
    var id = (field.id || field.name) + "-draft";
    if (document.getElementById(id)) return;
    var p = document.createElement("p");
    p.className = "hint draft-note";
    p.id = id;
    p.textContent = "Not sent yet: kept from before the page reloaded.";
    (after || field).insertAdjacentElement("afterend", p);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", described ? described + " " + id : id);
  }

  function restore(root) {
    root.querySelectorAll(TEXT).forEach(function (field) {
      if (!kept(field)) return;
      var stored;
      try { stored = JSON.parse(sessionStorage.getItem(key(field)) || "null"); } catch (bad) { stored = null; }
      if (!stored) return;
      var stale = Date.now() - stored.at > MAX_AGE_MS || stored.shown !== field.defaultValue;
      if (stale) { sessionStorage.removeItem(key(field)); return; }
      if (field.value !== field.defaultValue || field.value === stored.value) return;
      field.value = stored.value;
      field.dispatchEvent(new Event("input", {bubbles: true}));  // counters and the like follow
      note(field);
    });
  }

  document.addEventListener("input", function (event) {
    if (event.isTrusted && kept(event.target)) remember(event.target);
  });
  document.addEventListener("change", function (event) {
    if (event.isTrusted && keptChoice(event.target)) rememberChoice(event.target);
  });
  document.addEventListener("submit", function (event) {
    // A page script that sends one part of a form itself (an item of the case page's checklist)
    // has stopped the submit: only that part's drafts are sent.
    var button = event.submitter;
    var part = event.defaultPrevented && button ? button.closest("[data-item]") : null;
    Array.prototype.forEach.call(event.target.elements, function (field) {
      if (part && !part.contains(field)) return;
      if (kept(field)) sessionStorage.removeItem(key(field));
      if (keptChoice(field)) sessionStorage.removeItem(choiceKey(field));
    });
  });
  restore(document);
  restoreChoices(document);
})();
