// Bank details: show only the fields of the account type chosen. Without this script every field
// shows, and the server still asks only for the chosen type's details.
document.querySelectorAll("form.payee-form").forEach(function (form) {
  var radios = Array.from(form.querySelectorAll('input[type="radio"][name$="kind"]'));
  var groups = Array.from(form.querySelectorAll("fieldset[data-account-kind]"));
  function show() {
    var chosen = radios.find(function (radio) { return radio.checked; });
    groups.forEach(function (group) {
      var hide = !chosen || group.dataset.accountKind !== chosen.value;
      group.hidden = hide;
      group.disabled = hide;  // a hidden type's fields are not sent
      var hint = group.querySelector(".hint");
      if (hint && hint.parentElement === group) hint.hidden = true;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", show); });
  show();
});
