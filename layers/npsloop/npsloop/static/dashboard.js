/* npsloop dashboard: the trend chart, drawn with the vendored Chart.js from the JSON the page embeds
 * (<script type="application/json" id="trend-data">, escaped by Jinja's tojson; no inline script).
 * Each point is the period's score with its 95% interval as a band; a period with fewer answers than
 * the minimum sample is a hollow grey point and has no band (the legend on the page says why).
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
    new window.Chart(canvas, {
      type: "line",
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
                var range = p.small || p.low === null ? "" : " · 95%: " + p.low.toFixed(1) + " – " + p.high.toFixed(1);
                return "n = " + p.n + range;
              }
            }
          }
        },
        scales: { x: { ticks: { maxRotation: 0, autoSkip: true } } }
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
