// An audience's page: the map of Japan coloured by the contacts it targets per prefecture (numbers in #audience-data).
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("audience-data").textContent);
  var labels = data.labels;
  RenkeiJapanMap.mount(document.getElementById("audience-map"), script.dataset.geo, function (chart) {
    RenkeiJapanMap.draw(chart, data.prefectures, {
      name: labels.targeted,
      value: function (p) { return p.targeted; },
      lines: function (p) {
        return [p.name + (p.shortage ? " (" + labels.shortageMark + ")" : ""),
                labels.targeted + ": " + p.targeted, labels.sendable + ": " + p.sendable];
      },
    });
  });
})();
