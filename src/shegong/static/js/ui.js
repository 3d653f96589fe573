// The page frame's behaviour (no inline script: the CSP allows none).
// - Confirm before destructive actions: a form with data-confirm="question" opens the
//   confirm dialog (components/confirm_dialog.html) and is sent only on "Confirm".
// - Searchable pickers: a <select data-picker> becomes a tom-select (when loaded).
(function () {
  "use strict";
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "1") return;
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || !window.bootstrap) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      return;
    }
    event.preventDefault();
    pending = { form: form, submitter: event.submitter };
    dialog.querySelector("[data-confirm-text]").textContent = form.dataset.confirm;
    window.bootstrap.Modal.getOrCreateInstance(dialog).show();
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-confirm-yes]") || !pending) return;
    var form = pending.form, submitter = pending.submitter;
    pending = null;
    window.bootstrap.Modal.getOrCreateInstance(document.getElementById("confirm-dialog")).hide();
    form.dataset.confirmed = "1";
    if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
  });
})();

// Breakdowns that start folded on a phone (details[data-phone-fold]): the list comes first.
(function () {
  if (!window.matchMedia || !window.matchMedia("(max-width: 575.98px)").matches) return;
  document.querySelectorAll("details[data-phone-fold]").forEach(function (fold) {
    fold.removeAttribute("open");
  });
})();
