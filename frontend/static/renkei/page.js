// Small behaviours any page may use, wired by data attributes. The Content-Security-Policy
// runs no inline handler (onsubmit="...", onclick="..."), so they live here.
(function () {
  "use strict";
  // <form data-confirm-submit data-confirm="Really?">: asks before sending.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm-submit") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  // <button data-print>: the browser's print dialog (print or save as PDF).
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });
})();
