// Behaviour every console page shares. The content security policy runs same-origin script files only (no inline
// handlers), so it lives here: a <select data-autosubmit> submits its form on change (the org switcher); its
// <noscript> button does the same without script.
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var target = e.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) target.form.submit();
  });
})();
