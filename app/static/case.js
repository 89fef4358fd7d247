/* The case page works without this script (the checklist is then one form, saved as a whole);
   with it:
   - a checklist item is saved on its own without reloading the page, and an upload goes by XMLHttpRequest
     with a progress bar; then the readiness panel, the checklist, the attachment list and triage
     are refreshed in place from the page the server answers with, keeping whatever was typed,
     ticked or chosen but not saved yet;
   - a "does not apply" box shows the reason field instead of the answer;
   - text answers count their characters against the minimum;
   - the escalate button cannot be pressed twice while its request runs.
   Handlers are delegated from the document, so replaced sections keep working. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- "Does not apply" toggles ------------------------------------------------------------
  function syncNotApplicable(box) {
    var item = box.closest(".item-form");
    var answer = item.querySelector("[data-answer]");
    var reason = item.querySelector("[data-na-reason]");
    if (answer) answer.toggleAttribute("data-na-hidden", box.checked);
    if (reason) reason.toggleAttribute("data-na-hidden", !box.checked);
  }

  // --- Character counters ------------------------------------------------------------------
  function syncCounter(area) {
    var hint = document.getElementById(area.id + "-hint");
    var counter = hint && hint.querySelector("[data-counter]");
    if (!counter) return;
    var needed = parseInt(area.getAttribute("data-min-length"), 10) || 0;
    var length = area.value.trim().length;
    counter.textContent = length >= needed ? " " + length + " written: enough."
                                           : " " + length + " written, " + (needed - length) + " to go.";
    counter.classList.toggle("ok", length >= needed);
  }

  function enhance(root) {
    root.querySelectorAll("[data-na-toggle]").forEach(syncNotApplicable);
    root.querySelectorAll("textarea[data-min-length]").forEach(syncCounter);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-na-toggle]")) syncNotApplicable(event.target);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-min-length]")) syncCounter(event.target);
  });

  // --- Escalate once -----------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-submit-once]")) return;
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    var button = form.querySelector("button[type=submit]");
    if (button) { button.setAttribute("aria-disabled", "true"); button.textContent = "Escalating…"; }
  });
  // Coming back to the page from the history must not leave the button stuck.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.removeAttribute("aria-disabled"); button.textContent = "Escalate to GTAC"; }
    });
  });

  // --- Refreshing the page's parts in place -------------------------------------------------
  // After a save or an upload the server answers with the whole case page; the parts that follow
  // from the change are swapped in, and whatever was typed but not saved yet is carried over.
  var REFRESHED = ["readiness", "checklist-summary", "checklist", "attachment-list", "triage", "resolution"];

  // What was changed is tracked per checklist item (the items share one form) and per other form.
  function dirtyPart(field) {
    return (field.form && field.form.id === "checklist-form" && field.closest("li.item")) || field.form;
  }
  function markDirty(event) {
    var part = event.target.form && dirtyPart(event.target);
    if (part) part.setAttribute("data-dirty", "1");
  }
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);

  function carryOver(current, fresh) {
    current.querySelectorAll("[data-dirty] [id]").forEach(function (field) {
      if (!field.form || field.type === "hidden" || field.type === "file" || field.form.id === "upload-form") return;
      var twin = fresh.querySelector("#" + CSS.escape(field.id));
      // The fresh copy is not in the document yet, so its fields have no form owner to ask.
      if (!twin || !twin.matches("input, textarea, select")) return;
      if (field.type === "checkbox" || field.type === "radio") twin.checked = field.checked;
      else if ("value" in field && field.tagName !== "BUTTON") twin.value = field.value;
      else return;
      (twin.closest("li.item") || twin.closest("form") || twin).setAttribute("data-dirty", "1");
      var folded = twin.closest("details");
      if (folded) folded.open = true;
    });
  }

  function refresh(page) {
    var upload = document.getElementById("upload-form");
    REFRESHED.forEach(function (id) {
      var fresh = page.getElementById(id);
      var current = document.getElementById(id);
      if (fresh && current) {
        fresh = document.importNode(fresh, true);
        carryOver(current, fresh);
        // The upload form is kept as it is: its chosen file, progress and status stay.
        var twin = upload && current.contains(upload) && fresh.querySelector("#upload-form");
        if (twin) twin.replaceWith(upload);
        current.replaceWith(fresh);
        enhance(fresh);
      } else if (current && !fresh && !current.contains(upload)) {
        current.remove();
      } else if (fresh && !current && id === "resolution") {
        var triage = document.getElementById("triage");
        if (triage) triage.insertAdjacentElement("afterend", document.importNode(fresh, true));
      }
    });
  }

  function messageOf(page, ok) {
    var found = ok ? page.querySelector("main .flash-info")
                   : page.querySelector("#upload-error") || page.querySelector("main [role=alert]");
    return found ? found.textContent.trim() : "";
  }

  function announce(text) {
    var live = document.getElementById("checklist-announce");
    if (live) live.textContent = text;
  }

  // --- Saving one checklist item without reloading the page --------------------------------
  // An item's Save button sends the checklist form to that item's own address, where only the
  // item's fields are read; nothing typed into the other items is touched. "Save all answers",
  // and every button without this script, sends the form as usual: every item is saved together.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (form.id !== "checklist-form" || !button || !button.hasAttribute("data-item-action") ||
        !window.fetch || !window.DOMParser) return;
    event.preventDefault();
    var item = button.closest("li.item");
    var part = button.closest(".item-form");
    if (part.getAttribute("data-saving")) return;
    part.setAttribute("data-saving", "1");
    button.setAttribute("aria-disabled", "true");
    var body = new FormData(form);
    fetch(button.getAttribute("data-item-action"), {method: "POST", body: body, credentials: "same-origin"})
      .then(function (answer) {
        return answer.text().then(function (html) { return {ok: answer.ok, status: answer.status, html: html}; });
      })
      .then(function (answer) {
        var page = new DOMParser().parseFromString(answer.html, "text/html");
        if (!item || !page.getElementById(item.id)) {
          // Not a case page (signed out, refused, a server fault): say so where the answer was typed.
          var heading = page.querySelector("main h1");
          failed(part, button, "Not saved (" + answer.status + (heading ? ": " + heading.textContent.trim() : "") +
                 "). Your answer is still here; reload the page and try again.");
          return;
        }
        if (answer.ok) item.removeAttribute("data-dirty");  // saved: show the answer as stored
        refresh(page);
        var saved = document.getElementById(item.id);
        var said = answer.ok ? messageOf(page, true) || "Answer saved." : messageOf(page, false);
        announce(said);
        var target = (!answer.ok && saved.querySelector(".field-error")) || saved.querySelector(".item-status");
        if (target) {
          if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
          target.focus();
        }
      })
      .catch(function () {
        failed(part, button, "Not saved: the connection failed. Your answer is still here; try again.");
      });
  });

  function failed(part, button, message) {
    part.removeAttribute("data-saving");
    if (button) button.removeAttribute("aria-disabled");
    var said = part.querySelector("[data-save-failed]");
    if (!said) {
      said = document.createElement("p");
      said.className = "field-error";
      said.setAttribute("role", "alert");
      said.setAttribute("data-save-failed", "");
      part.insertBefore(said, part.firstChild);
    }
    said.textContent = message;
  }

  // --- Upload with a progress bar ----------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "upload-form" || !window.FormData) return;
    var file = form.querySelector("input[type=file]");
    var status = form.querySelector("[data-upload-status]");
    var box = form.querySelector("[data-upload-progress]");
    var bar = box.querySelector("progress");
    var stale = form.querySelector("#upload-error");
    if (stale) stale.remove();
    status.classList.remove("flash-error");
    // Refuse at once what the server would refuse after the whole file has travelled.
    var chosen = file.files && file.files[0];
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (chosen && limit && chosen.size > limit) {
      event.preventDefault();
      status.textContent = "The file is larger than the " + form.getAttribute("data-max-size") + " limit.";
      status.classList.add("flash-error");
      return;
    }
    if (!chosen || !form.querySelector("select[name=kind]").value) return; // the server explains what is missing
    event.preventDefault();

    var button = form.querySelector("button[type=submit]");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "document";
    bar.removeAttribute("value"); // indeterminate until the first progress event
    box.hidden = false;
    button.disabled = true;
    status.textContent = "Uploading " + chosen.name + "…";
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        bar.max = progress.total;
        bar.value = progress.loaded;
        status.textContent = "Uploading " + chosen.name + ": " + Math.floor(100 * progress.loaded / progress.total) + "%";
      }
    });
    request.addEventListener("load", function () {
      button.disabled = false;
      var page = request.response;
      if (request.status >= 200 && request.status < 300 && page) {
        bar.max = 1;
        bar.value = 1;
        refresh(page);
        form.reset();
        status.textContent = messageOf(page, true) || "Uploaded " + chosen.name + ".";
      } else {
        box.hidden = true;
        status.textContent = (page && messageOf(page, false)) || "The upload failed (" + request.status + ").";
        status.classList.add("flash-error");
      }
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      box.hidden = true;
      status.textContent = "The upload was interrupted; check the connection and try again.";
      status.classList.add("flash-error");
    });
    request.send(new FormData(form));
  });

  enhance(document);
})();
