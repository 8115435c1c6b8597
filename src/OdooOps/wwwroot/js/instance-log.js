// The live part of an instance page (/app/projects/{slug}/instances/{id}). The server rendered the last matching
// lines; this streams what comes after them from the SSE endpoint, with the page's filter (level, text), and keeps the
// state badge current. An instance's log has no end: the stream stays open while the page does. No framework.
(function () {
  "use strict";
  var log = document.getElementById("instance-log");
  if (!log || !window.EventSource) return;

  var KEEP = 5000; // older lines leave the page (the CLI and the API still have them)
  var TONES = { running: "success", starting: "progress", stopping: "progress", unhealthy: "warning", failed: "danger", unknown: "expired" };
  var status = document.getElementById("log-state");
  var jump = document.getElementById("log-jump");
  var after = Number(log.dataset.after);
  var following = true;

  function show(name, words) { if (status) { status.dataset.state = name; status.textContent = words; } }
  function bottom() { log.scrollTop = log.scrollHeight; }
  function atBottom() { return log.scrollTop + log.clientHeight >= log.scrollHeight - 4; }

  log.addEventListener("scroll", function () {
    following = atBottom();
    if (following && jump) jump.hidden = true;
  });
  if (jump) jump.addEventListener("click", function () { following = true; jump.hidden = true; bottom(); });
  bottom();

  function append(line) {
    if (line.seq <= after) return; // already on the page
    after = line.seq;
    var empty = document.getElementById("log-empty");
    if (empty) empty.remove();
    var row = document.createElement("div");
    row.className = "log-line level-" + String(line.level).toLowerCase();
    row.dataset.seq = String(line.seq);
    var number = document.createElement("span");
    number.className = "ln";
    number.setAttribute("aria-hidden", "true");
    number.textContent = String(line.seq + 1);
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = line.line.replace(/\x1b\[[0-?]*[ -\/]*[@-~]/g, ""); // colour codes, as the server strips them
    row.append(number, text);
    log.appendChild(row);
    while (log.childElementCount > KEEP) log.firstElementChild.remove();
  }

  function setState(s) {
    var holder = document.querySelector("#instance-state-holder .instance-state");
    if (!holder) return;
    holder.dataset.state = s.state;
    var badge = holder.querySelector(".badge");
    if (badge) { badge.className = "badge " + (TONES[s.state] || "neutral"); badge.dataset.status = s.state; badge.textContent = s.state; }
  }

  var tries = 0;
  function open() {
    var source = new EventSource(log.dataset.stream + (log.dataset.stream.indexOf("?") < 0 ? "?" : "&") + "after_seq=" + encodeURIComponent(String(after)));
    source.addEventListener("open", function () { tries = 0; show("live", "live"); });
    source.addEventListener("line", function (e) {
      var was = following;
      append(JSON.parse(e.data));
      if (was) bottom(); else if (jump) jump.hidden = false;
    });
    source.addEventListener("state", function (e) { setState(JSON.parse(e.data)); });
    source.addEventListener("error", function () {
      // CONNECTING: EventSource retries by itself. CLOSED: refused (too many live logs open, or signed out): a few later tries.
      if (source.readyState !== EventSource.CLOSED) { show("reconnecting", "reconnecting…"); return; }
      if (tries >= 5) { show("closed", "disconnected: reload the page"); return; }
      tries++;
      show("reconnecting", "paused: retrying in " + (10 * tries) + " s…");
      setTimeout(open, 10000 * tries);
    });
  }
  open();
})();
