// The live part of a build page (/app/projects/{slug}/builds/{id}). The server rendered the log's last lines;
// this streams the rest from the SSE endpoint: EventSource resumes after the last line it got (Last-Event-ID),
// so a dropped connection neither repeats nor skips lines. No framework, no build step.
(function () {
  "use strict";
  var log = document.getElementById("build-log");
  if (!log || log.dataset.finished === "true" || !window.EventSource) return;

  var MAX_LINES = 5000; // older lines leave the page (the CLI and the API still have them)
  var state = document.getElementById("log-state");
  var jump = document.getElementById("log-jump");
  var lastSeq = Number(log.dataset.after);
  var follow = true;

  var TONES = { success: "success", warning: "warning", failed: "danger", timed_out: "expired", running: "progress" };
  function badge(status) {
    var span = document.createElement("span");
    span.className = "badge " + (TONES[status] || "neutral");
    span.dataset.status = status;
    span.textContent = status.replace("_", " ");
    return span;
  }

  function setState(name, text) {
    if (!state) return;
    state.dataset.state = name;
    state.textContent = text;
  }

  // SGR bold and the 16 foreground colours become classes (as AnsiText.cs does); other escapes are dropped.
  var ESCAPES = /\x1b\[([0-?]*)[ -\/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[^\[\]]?/g;
  function appendAnsi(parent, line) {
    var bold = false, fg = null, last = 0, match;
    function text(upTo) {
      if (upTo <= last) return;
      var chunk = line.slice(last, upTo);
      if (!bold && fg === null) { parent.appendChild(document.createTextNode(chunk)); return; }
      var span = document.createElement("span");
      span.className = [bold ? "ansi-bold" : "", fg !== null ? "ansi-fg-" + fg : ""].join(" ").trim();
      span.textContent = chunk;
      parent.appendChild(span);
    }
    ESCAPES.lastIndex = 0;
    while ((match = ESCAPES.exec(line)) !== null) {
      text(match.index);
      last = ESCAPES.lastIndex;
      if (match[2] !== "m") continue;
      var codes = match[1] === "" ? ["0"] : match[1].split(";");
      for (var i = 0; i < codes.length; i++) {
        var n = Number(codes[i]) || 0;
        if (n === 38 || n === 48) { i += codes[i + 1] === "5" ? 2 : codes[i + 1] === "2" ? 4 : 0; continue; }
        if (n === 0) { bold = false; fg = null; }
        else if (n === 1) bold = true;
        else if (n === 22) bold = false;
        else if (n >= 30 && n <= 37) fg = n - 30;
        else if (n === 39) fg = null;
        else if (n >= 90 && n <= 97) fg = n - 90 + 8;
      }
    }
    text(line.length);
  }

  function atBottom() { return log.scrollTop + log.clientHeight >= log.scrollHeight - 4; }
  function toBottom() { log.scrollTop = log.scrollHeight; }

  // Scrolling up pauses following; scrolling back to the bottom (or the button) resumes it.
  log.addEventListener("scroll", function () {
    follow = atBottom();
    if (follow && jump) jump.hidden = true;
  });
  if (jump) jump.addEventListener("click", function () { follow = true; jump.hidden = true; toBottom(); });
  toBottom();

  function addLine(line) {
    if (line.seq <= lastSeq) return; // already on the page
    lastSeq = line.seq;
    var empty = document.getElementById("log-empty");
    if (empty) empty.remove();
    var row = document.createElement("div");
    row.className = "log-line stream-" + line.stream;
    row.dataset.seq = String(line.seq);
    var ln = document.createElement("span");
    ln.className = "ln";
    ln.setAttribute("aria-hidden", "true");
    ln.textContent = String(line.seq + 1);
    var text = document.createElement("span");
    text.className = "text";
    appendAnsi(text, line.line);
    row.appendChild(ln);
    row.appendChild(text);
    log.appendChild(row);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
  }

  function setStep(step) {
    var table = document.getElementById("build-steps");
    if (!table) return;
    var body = table.tBodies[0];
    var empty = body.querySelector(".steps-empty");
    if (empty) empty.remove();
    var row = body.querySelector('tr[data-step-seq="' + step.seq + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.stepSeq = String(step.seq);
      [["#", "num"], ["Step", "step-name"], ["Status", "step-status"], ["Duration", "num step-duration"], ["Exit code", "num step-exit"]]
        .forEach(function (c) { var td = document.createElement("td"); td.dataset.label = c[0]; td.className = c[1]; row.appendChild(td); });
      var next = Array.prototype.find.call(body.rows, function (r) { return Number(r.dataset.stepSeq) > step.seq; });
      body.insertBefore(row, next || null);
    }
    row.dataset.status = step.status;
    row.cells[0].textContent = String(step.seq + 1);
    row.cells[1].textContent = step.name;
    row.cells[2].replaceChildren(badge(step.status));
    row.cells[3].textContent = step.duration_ms == null ? "—" : duration(step.duration_ms);
    row.cells[4].textContent = step.exit_code == null ? "—" : String(step.exit_code);
  }

  function duration(ms) { // as UiFormat.Duration
    var s = ms / 1000;
    if (s < 1) return Math.floor(ms) + " ms";
    if (s < 60) return (Math.floor(s * 10) / 10).toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
    return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
  }

  function setStatus(status) {
    var holder = document.getElementById("build-status");
    if (holder) { holder.dataset.buildStatus = status; holder.replaceChildren(badge(status)); }
  }

  // The page's times were drawn while the build ran: the end event brings the final ones.
  function setFinalTimes(end) {
    var finished = document.querySelector('[data-fact="finished"]');
    if (finished && end.finished_at) {
      var time = document.createElement("time");
      time.className = "relative-time";
      time.dateTime = end.finished_at;
      time.title = end.finished_at.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC");
      time.textContent = "just now";
      finished.replaceChildren(time);
    }
    var took = document.querySelector('[data-fact="duration"]');
    if (took && end.started_at && end.finished_at) took.textContent = duration(Date.parse(end.finished_at) - Date.parse(end.started_at));
  }

  var retries = 0;
  function connect() {
    var source = new EventSource(log.dataset.stream + "?after=" + encodeURIComponent(String(lastSeq)));
    source.addEventListener("open", function () { retries = 0; setState("live", "live"); });
    source.addEventListener("line", function (e) {
      var following = follow;
      addLine(JSON.parse(e.data));
      if (following) toBottom(); else if (jump) jump.hidden = false;
    });
    source.addEventListener("step", function (e) { setStep(JSON.parse(e.data)); });
    source.addEventListener("status", function (e) { setStatus(JSON.parse(e.data).status); });
    source.addEventListener("end", function (e) {
      source.close(); // or EventSource would reconnect once the server closes
      var end = JSON.parse(e.data);
      setStatus(end.status);
      setFinalTimes(end);
      log.dataset.finished = "true";
      setState("complete", "complete");
      var cancel = document.getElementById("cancel-form");
      if (cancel) cancel.remove();
      var pending = document.getElementById("cancel-pending");
      if (pending) pending.remove();
    });
    source.addEventListener("error", function () {
      // EventSource retries by itself while readyState is CONNECTING. CLOSED means the server refused: too many live
      // logs open (429, for this user or the server), or signed out. A few later tries resume after the last line shown.
      if (source.readyState !== EventSource.CLOSED) { setState("reconnecting", "reconnecting…"); return; }
      if (retries >= 5) { setState("closed", "disconnected: reload the page"); return; }
      retries++;
      setState("reconnecting", "paused: retrying in " + (10 * retries) + " s…");
      setTimeout(connect, 10000 * retries);
    });
  }
  connect();
})();
