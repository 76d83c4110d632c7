/* Propensity dashboard behaviour: charts from data-chart, live job progress, confirmations.
   Pages work without it (every number is also in the HTML); it only adds the pictures. */
(function () {
  "use strict";

  var FORMATS = {
    pct: function (v) { return (v * 100).toFixed(1) + "%"; },
    money: function (v) { return (v < 0 ? "-$" : "$") + Math.abs(v).toLocaleString("en-US", {maximumFractionDigits: 0}); },
    num: function (v) { return Number(v).toLocaleString("en-US", {maximumFractionDigits: 2}); },
    signed: function (v) { return (v >= 0 ? "+" : "") + Number(v).toFixed(3); },
    days: function (v) { return Number(v).toFixed(0) + " d"; }
  };

  function valueOf(raw) {
    if (Array.isArray(raw)) { return raw[1] - raw[0]; }  // a floating bar [start, end]
    if (raw && typeof raw === "object") { return raw.y !== undefined ? raw.y : raw.x; }
    return raw;
  }

  function applyFormats(spec) {
    var format = spec.format || {};
    delete spec.format;
    spec.options = spec.options || {};
    spec.options.maintainAspectRatio = false;
    spec.options.animation = false;  // screenshots and slow machines show the final chart
    var scales = spec.options.scales = spec.options.scales || {};
    Object.keys(format).forEach(function (axis) {
      var fn = FORMATS[format[axis]];
      if (!fn || axis === "tooltip") { return; }
      scales[axis] = scales[axis] || {};
      scales[axis].ticks = scales[axis].ticks || {};
      scales[axis].ticks.callback = function (value) {
        var scale = this;
        if (scale.type === "category") { return scale.getLabelForValue(value); }
        return fn(value);
      };
    });
    var tip = FORMATS[format.tooltip || format.y || format.x];
    if (tip) {
      spec.options.plugins = spec.options.plugins || {};
      spec.options.plugins.tooltip = spec.options.plugins.tooltip || {};
      spec.options.plugins.tooltip.callbacks = {
        label: function (ctx) {
          var name = ctx.dataset.label ? ctx.dataset.label + ": " : "";
          return name + tip(valueOf(ctx.raw));
        }
      };
    }
    return spec;
  }

  function drawCharts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      try {
        new window.Chart(canvas, applyFormats(JSON.parse(canvas.getAttribute("data-chart"))));
        canvas.setAttribute("data-chart-ready", "1");
      } catch (err) {
        canvas.setAttribute("data-chart-error", String(err));
      }
    });
  }

  var TERMINAL = {completed: true, failed: true, cancelled: true};

  function watchJob(el) {
    var id = el.getAttribute("data-job-id");
    var bar = el.querySelector("[data-job-progress]");
    var status = el.querySelector("[data-job-status]");
    var message = el.querySelector("[data-job-message]");
    var delay = 1000;
    function poll() {
      fetch("/api/v1/jobs/" + encodeURIComponent(id), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)); })
        .then(function (job) {
          if (bar) { bar.value = job.progress || 0; }
          if (status) { status.textContent = job.status + (job.stage ? " · " + job.stage : "") + " · " + Math.round((job.progress || 0) * 100) + "%"; }
          if (message) { message.textContent = job.error || ""; }
          el.setAttribute("data-job-state", job.status);
          if (TERMINAL[job.status]) {
            if (el.hasAttribute("data-job-reload") && job.status === "completed") { window.location.reload(); }
            return;
          }
          delay = Math.min(delay * 1.3, 5000);
          window.setTimeout(poll, delay);
        })
        .catch(function (err) {
          if (message) { message.textContent = "Could not read the job's progress (" + err.message + "); retrying."; }
          window.setTimeout(poll, 5000);
        });
    }
    poll();
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  function busyButtons() {
    // A second click on a slow action (score now, retrain) would submit it twice.
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function () {
        // After this tick: a button disabled now would drop its name=value from the form.
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) {
            b.disabled = true;
            b.textContent = form.getAttribute("data-busy");
          });
        }, 0);
      });
    });
  }

  function start() {
    drawCharts();
    document.querySelectorAll("[data-job-id]").forEach(watchJob);
    confirmForms();
    busyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
