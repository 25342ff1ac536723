// The account page offers the browser's own time zone on a member's first visit: if the
// account still has the default and the browser's zone is in the list, it is chosen, and a
// sentence says so (the member can pick another before saving).
(function () {
  "use strict";
  var select = document.getElementById("id_time_zone");
  var note = document.getElementById("browser-zone-note");
  if (!select || !note || select.dataset.offerBrowserZone !== "yes") {
    return;
  }
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || zone === select.value) {
    return;
  }
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      select.value = zone;
      note.textContent = "Your browser says you are in " + zone.replace(/_/g, " ") +
        ", so it is chosen. Pick another if that is wrong.";
      note.hidden = false;
      return;
    }
  }
})();
