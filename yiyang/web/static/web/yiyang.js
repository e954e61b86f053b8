/* Yiyang page behaviour. The Content-Security-Policy allows no inline script, no event
   handler attributes (onclick=…) and no style attributes, so the little behaviour the
   pages need lives here, attached by data attributes:

   select[data-autosubmit]   submits its form when changed (the language switch)
   form[data-confirm]        asks the question in data-confirm before submitting
   [data-hide-on-click]      hides itself once clicked (a one-time "show number")
   nav[data-tabs]            marks the link of an htmx request as the current tab
   [data-percent]            gets that width, in %, (a bar of a result)
*/
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-hide-on-click]") : null;
    if (el) {
      el.hidden = true;
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail && event.detail.elt;
    var nav = link && link.closest ? link.closest("nav[data-tabs]") : null;
    if (!nav) {
      return;
    }
    nav.querySelectorAll("a").forEach(function (a) {
      var on = a === link;
      a.classList.toggle("active", on);
      if (on) {
        a.setAttribute("aria-current", "page");
      } else {
        a.removeAttribute("aria-current");
      }
    });
  });

  function widths(root) {
    root.querySelectorAll("[data-percent]").forEach(function (el) {
      var value = parseFloat(el.getAttribute("data-percent"));
      if (!isNaN(value)) {
        el.style.width = Math.max(0, Math.min(100, value)) + "%";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { widths(document); });
  document.addEventListener("htmx:load", function (event) { widths(event.target); });
})();
