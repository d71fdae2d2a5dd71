// Keeps the campaign page's sent / failed / remaining counts current while mails go out.
// The server renders the counts, so the page is right (if stale) without this script.
(function () {
  "use strict";
  const list = document.querySelector("[data-progress]");
  if (!list) return;
  const FIELDS = ["status_label", "sent", "failed", "remaining"];
  async function refresh() {
    try {
      const response = await fetch(list.dataset.progress, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        for (const mail of data.mails) {
          const row = list.querySelector('[data-mail="' + mail.id + '"]');
          if (!row) continue;
          for (const name of FIELDS) {
            const cell = row.querySelector('[data-field="' + name + '"]');
            if (cell) cell.textContent = String(mail[name]);
          }
        }
      }
    } catch (error) {
      // A dropped request is retried by the next tick.
    }
    setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
})();
