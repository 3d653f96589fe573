// The case page's tabs (casework/case_detail.html): Bootstrap switches the panes; this
// keeps the open tab in the address (?tab=…) so that a reload or a shared link opens it.
(function () {
  "use strict";
  document.addEventListener("shown.bs.tab", function (event) {
    var link = event.target;
    if (!link.closest("[data-testid=case-tabs]") || !window.history.replaceState) return;
    var url = new URL(window.location.href);
    url.searchParams.set("tab", link.getAttribute("data-bs-target").replace("#tab-", ""));
    window.history.replaceState(null, "", url.toString());
  });
})();
