// The organizers' regional dashboard: the map of Japan, the funnel by region and registrations per day,
// drawn with Apache ECharts (vendored) from the numbers the page carries in #dashboard-data.
// The server already counted everything; this file only draws, and labels come translated.
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var labels = data.labels;
  var SHORTAGE = "#b3261e";
  var STAGES = ["registered", "attended", "reception", "cards"];
  var charts = [];

  function chart(id) {
    var element = document.getElementById(id);
    var instance = echarts.init(element, null, { renderer: "canvas" });
    charts.push(instance);
    return instance;
  }

  var byCode = {};
  data.prefectures.forEach(function (p) { byCode[p.code] = p; });

  function drawMap(map, mode) {
    var values = data.prefectures.map(function (p) { return p[mode] == null ? 0 : p[mode]; });
    var max = Math.max.apply(null, values.concat([1]));
    // On a phone the map is as wide as the screen and its bottom-left corner is Kyushu's:
    // the scale goes under the map, lying down, instead of over Kyushu and Okinawa.
    var narrow = map.getWidth() < 480;
    map.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          var p = byCode[params.name];
          if (!p) { return ""; }
          var lines = [p.name + (p.shortage ? " (" + labels.shortageMark + ")" : "")];
          STAGES.forEach(function (stage) { lines.push(labels[stage] + ": " + p[stage]); });
          if (data.hasReach) { lines.push(labels.reach + ": " + (p.reach == null ? "–" : p.reach)); }
          return lines.map(function (line) { return echarts.format.encodeHTML(line); }).join("<br>");
        },
      },
      visualMap: {
        min: 0, max: max, left: narrow ? "center" : 0, bottom: 0, calculable: true,
        orient: narrow ? "horizontal" : "vertical", itemHeight: narrow ? 160 : 100,
        inRange: { color: ["#eef5f5", "#0d6e6e"] },
      },
      series: [{
        type: "map", map: "japan", nameProperty: "code", roam: true, aspectScale: 0.82,
        // Japan's outline is about as wide as tall: fill the box, leaving the scale its corner.
        layoutCenter: narrow ? ["50%", "44%"] : ["55%", "50%"], layoutSize: "94%",
        name: labels[mode],
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#f2c14e" } },
        itemStyle: { borderColor: "#9aa5b1", borderWidth: 0.5 },
        data: data.prefectures.map(function (p) {
          var item = { name: p.code, value: p[mode] == null ? 0 : p[mode] };
          if (p.shortage) { item.itemStyle = { borderColor: SHORTAGE, borderWidth: 2 }; }
          return item;
        }),
      }],
    }, { replaceMerge: ["series"] });
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
      color: ["#0d6e6e", "#3d9a9a", "#f2c14e", "#d9822b"],
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

  var map = chart("dash-map");
  map.showLoading();
  fetch(script.dataset.geo).then(function (response) {
    if (!response.ok) { throw new Error("map outlines: HTTP " + response.status); }
    return response.json();
  }).then(function (geo) {
    echarts.registerMap("japan", geo);
    map.hideLoading();
    var checked = document.querySelector("input[name=map-mode]:checked");
    drawMap(map, checked ? checked.value : "registered");
    document.querySelectorAll("input[name=map-mode]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.checked) { drawMap(map, input.value); } });
    });
  }).catch(function (error) {
    map.hideLoading();
    document.getElementById("dash-map").setAttribute("data-error", String(error));
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
