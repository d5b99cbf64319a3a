/* npsloop dashboard: the trend chart, drawn with the vendored Chart.js from the JSON the page embeds
 * (<script type="application/json" id="trend-data">, escaped by Jinja's tojson; no inline script).
 * Each point is the period's score with its 95% interval as a band; a period with fewer answers than
 * the minimum sample is a hollow grey point and has no band (the legend on the page says why).
 * The trend alert's baseline (its score and 95% interval over the baseline window) is a shaded
 * horizontal band across the chart, and its recent window a grey area over the periods it covers, so a
 * real drop shows as recent points below the band. Both are drawn by a small plugin (no extra library).
 */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var points = data.points;
    var labels = points.map(function (p) { return p.label; });
    var trusted = function (p) { return p.small ? null : p.low; };
    var band = "rgba(11, 79, 138, 0.15)";
    var baseline = data.baseline;
    var decimal = data.decimal || ".";
    var fixed = function (x) { return x.toFixed(1).replace(".", decimal); };
    var values = [];
    points.forEach(function (p) { [p.score, p.small ? null : p.low, p.small ? null : p.high].forEach(function (v) { if (v !== null) values.push(v); }); });
    if (baseline) values.push(baseline.low, baseline.high);
    var inRecent = function (p) { return baseline && p.to >= baseline.recent_from && p.from <= baseline.recent_to; };

    // The baseline band and the recent window, under the data.
    var baselinePlugin = {
      id: "npsloopBaseline",
      beforeDatasetsDraw: function (chart) {
        if (!baseline) return;
        var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x, y = chart.scales.y;
        ctx.save();
        var first = points.findIndex(inRecent);
        if (first >= 0) {
          var step = points.length > 1 ? (x.getPixelForValue(1) - x.getPixelForValue(0)) / 2 : (area.right - area.left) / 2;
          var left = Math.max(area.left, x.getPixelForValue(first) - step);
          ctx.fillStyle = "rgba(82, 96, 109, 0.14)";
          ctx.fillRect(left, area.top, area.right - left, area.bottom - area.top);
          ctx.fillStyle = "#3e4c59";
          ctx.font = "12px system-ui, sans-serif";
          ctx.textAlign = "right";
          ctx.fillText(baseline.recent_label, area.right - 4, area.top + 14);
        }
        var top = y.getPixelForValue(baseline.high), bottom = y.getPixelForValue(baseline.low);
        ctx.fillStyle = "rgba(138, 75, 0, 0.18)";
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.strokeStyle = "#8a4b00";
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5;
        var middle = y.getPixelForValue(baseline.score);
        ctx.beginPath(); ctx.moveTo(area.left, middle); ctx.lineTo(area.right, middle); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#6b3a00";
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = "left";
        var room = area.right - area.left - 8;
        var text = ctx.measureText(baseline.label).width <= room ? baseline.label : baseline.short;  // a phone
        ctx.fillText(text, area.left + 4, top - 18 > area.top ? top - 5 : Math.min(area.bottom - 4, bottom + 14));
        ctx.restore();
        chart.canvas.setAttribute("data-baseline", [baseline.low, baseline.high].map(fixed).join(" "));
      }
    };

    // Each trusted point's 95% interval as a whisker: the filled band needs two neighbours to show.
    var whiskers = {
      id: "npsloopWhiskers",
      afterDatasetsDraw: function (chart) {
        var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
        ctx.save();
        ctx.strokeStyle = "#0b4f8a";
        ctx.lineWidth = 1.5;
        points.forEach(function (p, i) {
          if (p.small || p.low === null || p.high === null) return;
          var px = x.getPixelForValue(i), lo = y.getPixelForValue(p.low), hi = y.getPixelForValue(p.high);
          ctx.beginPath();
          ctx.moveTo(px, lo); ctx.lineTo(px, hi);
          ctx.moveTo(px - 5, lo); ctx.lineTo(px + 5, lo);
          ctx.moveTo(px - 5, hi); ctx.lineTo(px + 5, hi);
          ctx.stroke();
        });
        ctx.restore();
      }
    };
    new window.Chart(canvas, {
      type: "line",
      plugins: [baselinePlugin, whiskers],
      data: {
        labels: labels,
        datasets: [
          { label: "95% low", data: points.map(trusted), borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false },
          {
            label: "95% high",
            data: points.map(function (p) { return p.small ? null : p.high; }),
            borderWidth: 0, pointRadius: 0, backgroundColor: band, fill: "-1", spanGaps: false
          },
          {
            label: data.survey.toUpperCase(),
            data: points.map(function (p) { return p.score; }),
            borderColor: "#0b4f8a",
            borderWidth: 2,
            spanGaps: true,
            pointRadius: 5,
            pointBorderWidth: 2,
            pointBackgroundColor: points.map(function (p) { return p.small ? "#ffffff" : "#0b4f8a"; }),
            pointBorderColor: points.map(function (p) { return p.small ? "#616e7c" : "#0b4f8a"; })
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 2; },
            callbacks: {
              afterLabel: function (item) {
                var p = points[item.dataIndex];
                var range = p.small || p.low === null ? "" : " · 95%: " + fixed(p.low) + " – " + fixed(p.high);
                return "n = " + p.n + range;
              }
            }
          }
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true } },
          y: {
            suggestedMin: values.length ? Math.min.apply(null, values) : undefined,
            suggestedMax: values.length ? Math.max.apply(null, values) : undefined,
            ticks: { callback: function (v) { return String(v).replace(".", decimal); } }
          }
        }
      }
    });
    canvas.setAttribute("data-drawn", String(points.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
