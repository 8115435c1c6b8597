// The keyboard tests' probe, put in every page before its own scripts run (an init script). It notes each element a
// script gives a click listener, and offers window.__kb: setup() lists what must be reachable by Tab, step() tells
// what has the focus and whether it shows it.
(() => {
  "use strict";
  const clickable = new Set();
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if ((type === "click" || type === "dblclick") && this instanceof Element) clickable.add(this);
    return add.call(this, type, listener, options);
  };

  const NATIVE = "a[href], area[href], button, input:not([type=hidden]), select, textarea, summary, iframe, [contenteditable]:not([contenteditable=false])";
  const ROLES = "[role=button], [role=link], [role=checkbox], [role=radio], [role=switch], [role=tab], [role=menuitem], [role=option], [role=slider]";

  // Inside a closed <details> (its own summary excepted) or a closed <dialog>: out of reach until opened, by design.
  function folded(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS" && !p.open && !(el.tagName === "SUMMARY" && el.parentElement === p)) return true;
      if (p.tagName === "DIALOG" && !p.open) return true;
    }
    return false;
  }

  function shown(el) {
    return !folded(el) && el.getClientRects().length > 0 && el.checkVisibility({ checkVisibilityCSS: true })
      && !el.matches(":disabled") && !el.closest("[inert]");
  }

  function describe(el) {
    const name = (el.getAttribute("aria-label") || el.innerText || el.value || el.getAttribute("name") || "").trim().replace(/\s+/g, " ").slice(0, 40);
    const id = el.id ? "#" + el.id : "";
    const cls = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return `${el.tagName.toLowerCase()}${id}${cls}${el.getAttribute("href") ? `[href=${el.getAttribute("href")}]` : ""} “${name}”`;
  }

  // What must be reachable: natively interactive elements, anything with a role that acts or a tabindex of its own,
  // and anything a script listens to clicks on. A tabindex of -1 alone marks a focus target, not a control.
  function interactive(el) {
    if (el.matches(NATIVE) || el.matches(ROLES) || el.hasAttribute("onclick") || typeof el.onclick === "function" || clickable.has(el)) return true;
    return el.hasAttribute("tabindex") && el.tabIndex >= 0;
  }

  function look(el) {
    const s = getComputedStyle(el);
    return { outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} ${s.outlineOffset}`, shadow: s.boxShadow };
  }

  const baseline = new Map();
  let counter = 0;

  function setup() {
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    baseline.clear();
    const reach = [], positive = [], clickOnly = [];
    for (const el of document.querySelectorAll("*")) {
      if (el.hasAttribute("tabindex") && el.tabIndex > 0) positive.push(describe(el));
      if (!interactive(el) || !shown(el)) continue;
      if (!el.dataset.kb) el.dataset.kb = String(++counter);
      baseline.set(el.dataset.kb, look(el));
      if (el.tabIndex < 0 && !el.matches(NATIVE)) clickOnly.push(describe(el));
      // Radio buttons are one stop per group (the arrows move within it).
      const group = el.matches("input[type=radio]") && el.name ? `radio:${el.form ? el.form.action : ""}:${el.name}` : el.dataset.kb;
      reach.push({ id: el.dataset.kb, group, what: describe(el) });
    }
    return { reach, positive, clickOnly };
  }

  // The indicator's extent: the outline (with its offset) where there is one, else the box (a shadow is drawn around it).
  function extent(el, s) {
    const r = el.getBoundingClientRect();
    const out = s.outlineStyle !== "none" ? parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset) : 0;
    return { left: r.left - out, top: r.top - out, right: r.right + out, bottom: r.bottom + out };
  }

  // An ancestor that clips (overflow other than visible) cutting into the indicator.
  function clipper(el, box) {
    for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      const r = p.getBoundingClientRect();
      const left = r.left + p.clientLeft, top = r.top + p.clientTop;
      const inside = { left, top, right: left + p.clientWidth, bottom: top + p.clientHeight };
      if (box.left < inside.left - 0.5 || box.top < inside.top - 0.5 || box.right > inside.right + 0.5 || box.bottom > inside.bottom + 0.5)
        return describe(p);
    }
    return null;
  }

  // Something fixed or sticky (the top bar, the phone's section strip) over the focused element's middle.
  function coveredBy(el) {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + Math.min(r.height / 2, 10);
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return null;
    const hit = document.elementFromPoint(x, y);
    if (!hit || el.contains(hit) || hit.contains(el) || (hit.control && hit.control === el) || (hit.closest("label") && hit.closest("label").control === el)) return null;
    for (let p = hit; p; p = p.parentElement) {
      const position = getComputedStyle(p).position;
      if ((position === "fixed" || position === "sticky") && !p.contains(el)) return describe(p);
    }
    return null;
  }

  function step() {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { id: null };
    const s = getComputedStyle(el), now = look(el), before = baseline.get(el.dataset.kb);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1 && (!before || before.outline !== now.outline);
    const shadow = s.boxShadow !== "none" && (!before || before.shadow !== now.shadow);
    return {
      id: el.dataset.kb || null,
      what: describe(el),
      indicator: outline || shadow,
      clipped: outline ? clipper(el, extent(el, s)) : null,
      covered: coveredBy(el),
    };
  }

  window.__kb = { setup, step, describe };
})();
