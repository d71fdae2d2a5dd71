// The organizers' regional dashboard: the map of Japan, the funnel by region and registrations per day,
// drawn with Apache ECharts (vendored) from the numbers the page carries in #dashboard-data (the map by japan-map.js).
// The server already counted everything; this file only draws, and labels come translated.
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var labels = data.labels;
  var SHORTAGE = RenkeiJapanMap.SHORTAGE;
  // The event's stages, or a campaign's (its mail in front).
  var STAGES = data.stages || ["registered", "attended", "reception", "cards"];
  var charts = [];

  function chart(id) {
    var element = document.getElementById(id);
    var instance = echarts.init(element, null, { renderer: "canvas" });
    charts.push(instance);
    return instance;
  }

  function drawMap(map, mode) {
    RenkeiJapanMap.draw(map, data.prefectures, {
      name: labels[mode],
      value: function (p) { return p[mode]; },
      lines: function (p) {
        var lines = [p.name + (p.shortage ? " (" + labels.shortageMark + ")" : "")];
        STAGES.forEach(function (stage) { lines.push(labels[stage] + ": " + p[stage]); });
        if (data.hasReach) { lines.push(labels.reach + ": " + (p.reach == null ? "–" : p.reach)); }
        return lines;
      },
    });
  }

  function drawFunnel(funnel) {
    var regions = data.regions;
    funnel.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: STAGES.map(function (s) { return labels[s]; }) },
      grid: { left: 8, right: 8, bottom: 8, top: 56, containLabel: true },
      xAxis: { type: "category", data: regions.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: regions.length > 6 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: STAGES.map(function (stage) {
        return { type: "bar", name: labels[stage], data: regions.map(function (r) { return r[stage]; }) };
      }),
      color: STAGES.length > 4
        ? ["#9aa5b1", "#5b6776", "#2f4858", "#0d6e6e", "#3d9a9a", "#f2c14e", "#d9822b"]
        : ["#0d6e6e", "#3d9a9a", "#f2c14e", "#d9822b"],
    });
  }

  function drawDaily(daily) {
    daily.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [labels.shortage, labels.rest] },
      grid: { left: 8, right: 8, bottom: 8, top: 56, containLabel: true },
      xAxis: { type: "category", data: data.daily.map(function (d) { return d[0]; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { type: "bar", name: labels.shortage, data: data.daily.map(function (d) { return d[1]; }), color: SHORTAGE },
        { type: "bar", name: labels.rest, data: data.daily.map(function (d) { return d[2]; }), color: "#0d6e6e" },
      ],
      graphic: data.daily.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: labels.none, fontSize: 14, fill: "#5b6776" } }],
    });
  }

  drawFunnel(chart("dash-funnel"));
  drawDaily(chart("dash-daily"));

  RenkeiJapanMap.mount(document.getElementById("dash-map"), script.dataset.geo, function (map) {
    var checked = document.querySelector("input[name=map-mode]:checked");
    drawMap(map, checked ? checked.value : "registered");
    document.querySelectorAll("input[name=map-mode]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.checked) { drawMap(map, input.value); } });
    });
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
