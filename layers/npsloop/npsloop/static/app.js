/* npsloop web app: shared behaviour of the staff pages.
 *
 * Live refresh: every element with data-live-src="<same-origin URL>" is refreshed by fetching that URL
 * every data-live-every seconds (default 30) and replacing its content with the HTML fragment it
 * returns. Polling pauses while the tab is hidden and catches up when it shows again. After each try,
 * the element's note (the next [data-live-note] sibling, or one added after it) says "updated hh:mm",
 * or that the refresh failed - then the old content stays. The note's words come from the element's
 * data-live-updated / data-live-failed attributes (the page's language), with English defaults.
 */
(function () {
  "use strict";
  var DEFAULT_EVERY = 30;

  function hhmm(date) {
    return ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
  }

  function noteOf(element) {
    var next = element.nextElementSibling;
    if (next && next.hasAttribute("data-live-status")) return next;
    var note = document.createElement("p");
    note.className = "live-note";
    note.setAttribute("data-live-status", "");
    note.setAttribute("role", "status");
    element.insertAdjacentElement("afterend", note);
    return note;
  }

  function live(element) {
    var src = element.getAttribute("data-live-src");
    var every = parseFloat(element.getAttribute("data-live-every")) || DEFAULT_EVERY;
    var updated = element.getAttribute("data-live-updated") || "updated {time}";
    var failed = element.getAttribute("data-live-failed") || "not updated";
    var timer = null;
    var busy = false;

    function say(text, ok) {
      var note = noteOf(element);
      note.textContent = text;
      note.classList.toggle("stale", !ok);
    }

    function refresh() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" }, redirect: "error" })
        .then(function (reply) {
          if (!reply.ok) throw new Error("HTTP " + reply.status);
          return reply.text();
        })
        .then(function (html) {
          element.innerHTML = html;
          say(updated.replace("{time}", hhmm(new Date())), true);
          element.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
        })
        .catch(function () {
          say(failed, false);
        })
        .then(function () {
          busy = false;
        });
    }

    function start() {
      if (timer === null) timer = window.setInterval(refresh, every * 1000);
    }

    function stop() {
      if (timer !== null) window.clearInterval(timer);
      timer = null;
    }

    if (element.hasAttribute("data-live-now")) refresh();  // a placeholder: fill it at once
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        stop();
      } else {
        refresh();
        start();
      }
    });
    start();
  }

  function init() {
    var elements = document.querySelectorAll("[data-live-src]");
    for (var i = 0; i < elements.length; i++) live(elements[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
