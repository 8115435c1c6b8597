// Behaviour every console page shares. The content security policy runs same-origin script files only (no inline
// handlers), so it lives here. Every page works without it; it saves keystrokes and clicks.
(function () {
  "use strict";

  // A <select data-autosubmit> (the org switcher) submits its form on change, but not while arrow keys or typing move
  // through its options (Chromium changes a closed select's value on each arrow): there Enter submits. Its <noscript>
  // button does the same without script.
  var keyed = false;
  document.addEventListener("keydown", function (e) {
    var target = e.target;
    if (!target || !target.matches || !target.matches("select[data-autosubmit]")) return;
    if (e.key === "Enter" && target.form) {
      e.preventDefault();
      target.form.submit();
      return;
    }
    keyed = true;
    setTimeout(function () { keyed = false; }, 0);
  });
  document.addEventListener("change", function (e) {
    var target = e.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form && !keyed) target.form.submit();
  });
  // Left without Enter, it shows the page's choice again rather than one that was never submitted.
  document.addEventListener("focusout", function (e) {
    var target = e.target;
    if (!target || !target.matches || !target.matches("select[data-autosubmit]")) return;
    for (var i = 0; i < target.options.length; i++) {
      if (target.options[i].defaultSelected) { target.selectedIndex = i; return; }
    }
  });

  // Chromium does not scroll a strip that scrolls sideways (the phone's sections, a project's tabs) to a link Tab
  // focuses while part of it shows: reveal it whole, its focus ring included (the strips' scroll-padding).
  document.addEventListener("focusin", function (e) {
    var target = e.target;
    if (target && target.closest && target.closest(".sidebar, .tabs")) target.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  // On a phone the strips show a part of their links: the current section and tab are brought into the part shown.
  function revealCurrent() {
    var strips = document.querySelectorAll(".sidebar, .tabs");
    for (var i = 0; i < strips.length; i++) {
      var strip = strips[i], current = strip.querySelector("a[aria-current=page]");
      if (!current || strip.scrollWidth <= strip.clientWidth) continue;
      var box = strip.getBoundingClientRect(), r = current.getBoundingClientRect();
      if (r.left < box.left || r.right > box.right) strip.scrollLeft += r.left - box.left - (box.width - r.width) / 2;
    }
  }

  // Dialogs are page states of their own (a section.card.confirm in place of the page, reached by a link, left by its
  // Cancel link). Opening one puts the focus in it (its first field, else Cancel: never the button that confirms);
  // Escape follows Cancel; back on the page, the focus returns to the link that opened it.
  var OPENER = "ops.dialog-opener", RETURN = "ops.dialog-return";

  function dialog() { return document.querySelector("section.card.confirm"); }

  function cancelOf(d) {
    var links = d.querySelectorAll(".confirm-actions a.btn:not(.danger):not(.primary)");
    return links.length ? links[links.length - 1] : null;
  }

  function read(key) {
    try { var v = JSON.parse(sessionStorage.getItem(key) || "null"); sessionStorage.removeItem(key); return v; } catch (_) { return null; }
  }

  function write(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* storage off: the focus stays where the browser puts it */ }
  }

  // A link to another state of this same page may open a dialog: remember it, with the page it was on.
  document.addEventListener("click", function (e) {
    var link = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    if (!link || dialog() || link.pathname !== location.pathname) return;
    write(OPENER, { page: location.pathname, href: link.getAttribute("href") });
  }, true);

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var d = dialog(), cancel = d && cancelOf(d);
    if (!cancel) return;
    e.preventDefault();
    cancel.click();
  });

  function settle() {
    var opener = read(OPENER), back = read(RETURN), d = dialog();
    if (d) {
      if (opener || back) write(RETURN, opener || back);
      if (d.contains(document.activeElement)) return; // a field in error took it already (autofocus)
      var target = d.querySelector("input:not([type=hidden]):not([type=radio]), select, textarea, input[type=radio]:checked") || cancelOf(d);
      if (target) target.focus();
      return;
    }
    if (!back || back.page !== location.pathname || (document.activeElement && document.activeElement !== document.body)) return;
    var links = document.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === back.href) { links[i].focus(); return; }
    }
  }

  function ready() { revealCurrent(); settle(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
