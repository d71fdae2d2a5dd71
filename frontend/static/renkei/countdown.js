// Counts down to the next talk. The server renders the start time, so the
// page still says when the talk is if this script never runs.
(function () {
  "use strict";
  const box = document.querySelector("[data-countdown]");
  if (!box) return;
  const startsAt = Date.parse(box.dataset.startsAt);
  const endsAt = Date.parse(box.dataset.endsAt);
  const out = box.querySelector(".countdown");
  const pad = (n) => String(n).padStart(2, "0");
  function tick() {
    const now = Date.now();
    if (now >= startsAt && now < endsAt) {
      out.textContent = box.dataset.labelLive;
      return;
    }
    let s = Math.max(0, Math.floor((startsAt - now) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    out.textContent = (d > 0 ? d + " " + box.dataset.labelDays + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    setTimeout(tick, 1000);
  }
  tick();
})();
