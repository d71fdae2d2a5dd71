// The map of Japan by prefecture that organizer pages colour (the event dashboard, an audience before sending),
// drawn with Apache ECharts (vendored) on the vendored prefecture outlines. Physician-shortage prefectures get a
// thick red outline. Pages give the numbers; this file only draws.
window.RenkeiJapanMap = (function () {
  "use strict";
  var SHORTAGE = "#b3261e";
  var outlines = null;

  // The outlines are fetched once per page, however many maps it draws.
  function loadOutlines(url) {
    if (!outlines) {
      outlines = fetch(url).then(function (response) {
        if (!response.ok) { throw new Error("map outlines: HTTP " + response.status); }
        return response.json();
      }).then(function (geo) { echarts.registerMap("japan", geo); });
    }
    return outlines;
  }

  // Draws into `element` once the outlines arrive, then calls ready(chart); a failure is left on data-error.
  function mount(element, geoUrl, ready) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.showLoading();
    loadOutlines(geoUrl).then(function () {
      chart.hideLoading();
      ready(chart);
    }).catch(function (error) {
      chart.hideLoading();
      element.setAttribute("data-error", String(error));
    });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  // prefectures: [{code, shortage, ...}]; value(p) -> number; lines(p) -> tooltip lines (plain text, escaped here).
  function draw(chart, prefectures, options) {
    var byCode = {};
    prefectures.forEach(function (p) { byCode[p.code] = p; });
    var values = prefectures.map(function (p) { var v = options.value(p); return v == null ? 0 : v; });
    // On a phone the map is as wide as the screen and its bottom-left corner is Kyushu's:
    // the scale goes under the map, lying down, instead of over Kyushu and Okinawa.
    var narrow = chart.getWidth() < 480;
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          var p = byCode[params.name];
          if (!p) { return ""; }
          return options.lines(p).map(function (line) { return echarts.format.encodeHTML(line); }).join("<br>");
        },
      },
      visualMap: {
        min: 0, max: Math.max.apply(null, values.concat([1])), left: narrow ? "center" : 0, bottom: 0, calculable: true,
        orient: narrow ? "horizontal" : "vertical", itemHeight: narrow ? 160 : 100,
        inRange: { color: ["#eef5f5", "#0d6e6e"] },
      },
      series: [{
        type: "map", map: "japan", nameProperty: "code", roam: true, aspectScale: 0.82,
        // Japan's outline is about as wide as tall: fill the box, leaving the scale its corner.
        layoutCenter: narrow ? ["50%", "44%"] : ["55%", "50%"], layoutSize: "94%",
        name: options.name,
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#f2c14e" } },
        itemStyle: { borderColor: "#9aa5b1", borderWidth: 0.5 },
        data: prefectures.map(function (p, i) {
          var item = { name: p.code, value: values[i] };
          if (p.shortage) { item.itemStyle = { borderColor: SHORTAGE, borderWidth: 2 }; }
          return item;
        }),
      }],
    }, { replaceMerge: ["series"] });
  }

  return { SHORTAGE: SHORTAGE, mount: mount, draw: draw };
})();
