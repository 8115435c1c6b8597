// The Metrics page's charts (/app/metrics), drawn with uPlot (vendored in lib/uplot) from the series the server put in
// the page: data-chart on each chart (epoch seconds, and per bucket the mean, lowest and highest value) and
// data-deployments on their holder (drawn as labelled dashed lines). Times read in UTC, as everywhere in the console.
// Without script the holder stays hidden and the page's table carries the same numbers. No request of its own.
(function () {
  "use strict";
  var holder = document.getElementById("metric-charts");
  if (!holder || !window.uPlot) return;

  var marks = JSON.parse(holder.getAttribute("data-deployments") || "[]");
  var accent = "#714b67", faint = "rgba(113, 75, 103, 0.35)", band = "rgba(113, 75, 103, 0.10)";
  var HEIGHT = 200;

  function format(s, v) {
    if (v == null) return "—";
    return v.toLocaleString("en", { minimumFractionDigits: s.decimals, maximumFractionDigits: s.decimals }) + s.unit;
  }

  // Buckets are only where samples were: a pause longer than a few buckets is a gap, not a line across it.
  function columns(s) {
    var t = [], avg = [], min = [], max = [];
    var gaps = [];
    for (var i = 1; i < s.t.length; i++) gaps.push(s.t[i] - s.t[i - 1]);
    gaps.sort(function (a, b) { return a - b; });
    var usual = Math.max(s.step, gaps.length ? gaps[Math.floor(gaps.length / 2)] : s.step);
    for (var k = 0; k < s.t.length; k++) {
      if (k > 0 && s.t[k] - s.t[k - 1] > 3 * usual) { t.push(s.t[k - 1] + usual); avg.push(null); min.push(null); max.push(null); }
      t.push(s.t[k]); avg.push(s.avg[k]); min.push(s.min[k]); max.push(s.max[k]);
    }
    return [t, max, avg, min];
  }

  function deployments() {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, ratio = window.devicePixelRatio || 1;
          ctx.save();
          ctx.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
          marks.forEach(function (m) {
            if (m.t < u.scales.x.min || m.t > u.scales.x.max) return;
            var x = Math.round(u.valToPos(m.t, "x", true));
            var colour = m.failed ? "#dc2626" : "#2563eb";
            ctx.strokeStyle = colour;
            ctx.fillStyle = colour;
            ctx.lineWidth = ratio;
            ctx.setLineDash([4 * ratio, 3 * ratio]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(m.label, x + 4 * ratio, u.bbox.top + 12 * ratio);
          });
          ctx.restore();
        }],
      },
    };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Axis times in UTC, 24-hour: hours within two days, dates beyond (with the hour where ticks fall inside a day).
  function times(s) {
    var days = (s.to - s.from) / 86400;
    return function (u, ticks) {
      return ticks.map(function (t) {
        var d = new Date(t * 1000), day = pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()), hour = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
        return days > 2 ? (hour === "00:00" ? day : day + " " + hour) : (hour === "00:00" ? day : hour);
      });
    };
  }

  function options(s, width) {
    var value = function (u, v) { return format(s, v); };
    return {
      width: width,
      height: HEIGHT,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true, min: s.from, max: s.to } },
      series: [
        { value: "{YYYY}-{MM}-{DD} {HH}:{mm} UTC" },
        { label: "highest", stroke: faint, width: 1, value: value },
        { label: "mean", stroke: accent, width: 2, value: value },
        { label: "lowest", stroke: faint, width: 1, value: value },
      ],
      bands: [{ series: [1, 3], fill: band }],
      axes: [{ values: times(s) }, { size: 84, values: function (u, ticks) { return ticks.map(function (v) { return format(s, v); }); } }],
      plugins: [deployments()],
    };
  }

  // The width inside the holder's padding: the canvas drawn as wide as the padded box would be cut by its card.
  function inner(box) {
    var style = getComputedStyle(box);
    return Math.floor(box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  }

  // uPlot's legend shows or hides a series on a click of its name; the keyboard gets the same: a toggle button each.
  // Buttons may not sit inside an image, so the holder's image role and words go to the plot alone.
  function keyboardLegend(box) {
    var plot = box.querySelector(".u-wrap");
    if (plot && box.getAttribute("role") === "img") {
      plot.setAttribute("role", "img");
      plot.setAttribute("aria-label", box.getAttribute("aria-label") || "");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
    box.querySelectorAll(".u-legend tr.u-series").forEach(function (row, i) {
      var name = row.querySelector("th");
      if (i === 0 || !name) return; // the time column toggles nothing
      var sync = function () { name.setAttribute("aria-pressed", row.classList.contains("u-off") ? "false" : "true"); };
      name.tabIndex = 0;
      name.setAttribute("role", "button");
      sync();
      name.addEventListener("click", sync);
      name.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        name.click();
      });
    });
  }

  holder.hidden = false;
  var charts = [];
  holder.querySelectorAll("[data-chart]").forEach(function (box) {
    var s = JSON.parse(box.getAttribute("data-chart"));
    charts.push({ box: box, plot: new uPlot(options(s, inner(box)), columns(s), box) });
    keyboardLegend(box);
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: inner(c.box), height: HEIGHT }); });
    });
  });
})();
