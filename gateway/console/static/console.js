// The agent console's keyboard shortcuts, listed in the help overlay (#shortcuts in base.html): "/" the page's
// search field, "g" then "l", "e", "f" or "h" to go to a page, "d" to open or close the customer's details, "?" the
// overlay itself. Every page works without them; they stay off while the agent types in a field, and with Ctrl,
// Alt or Cmd held (the browser's own shortcuts).
(function () {
  "use strict";
  var body = document.body;
  var help = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  var GO = { l: "goLookup", e: "goEscalations", f: "goFaq", h: "goHome" };
  var waitingForPage = null; // the timer while a "g" waits for its second key

  function typing(target) {
    return /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }

  function showHelp() {
    if (help && !help.open) help.showModal();
  }

  function toggleDetails() {
    var all = document.querySelectorAll("details[data-details]");
    if (!all.length) return false;
    var open = !Array.prototype.every.call(all, function (item) { return item.open; });
    Array.prototype.forEach.call(all, function (item) { item.open = open; });
    if (open) all[0].scrollIntoView({ block: "start" });
    all[0].querySelector("summary").focus();
    return true;
  }

  if (opener && help) {
    opener.hidden = false; // without this script the button would do nothing: it stays hidden then
    opener.addEventListener("click", showHelp);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || (help && help.open)) return; // the dialog closes itself on Escape
    var key = event.key;
    if (waitingForPage !== null) {
      clearTimeout(waitingForPage);
      waitingForPage = null;
      var url = GO[key] && body.dataset[GO[key]];
      if (url) {
        event.preventDefault();
        window.location.assign(url);
      }
      return;
    }
    if (key === "g" && body.dataset.goLookup) {
      waitingForPage = setTimeout(function () { waitingForPage = null; }, 1500);
    } else if (key === "/") {
      var field = document.querySelector("[data-primary-field]");
      if (field) {
        event.preventDefault();
        field.focus();
        if (field.select) field.select();
      }
    } else if (key === "?" && help) {
      event.preventDefault();
      showHelp();
    } else if (key === "d") {
      if (toggleDetails()) event.preventDefault();
    }
  });
})();
