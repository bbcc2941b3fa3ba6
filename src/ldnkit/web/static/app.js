// ldnkit: progressive enhancement only; every page works without this script.
// On the diary form, a side effect's severity menu is shown only once the effect is ticked,
// and the dose time is hidden when the dose was not taken.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".se").forEach((row) => {
    const box = row.querySelector("input[type=checkbox]");
    const sel = row.querySelector("select");
    if (!box || !sel) return;
    const sync = () => { sel.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });
  const time = document.querySelector("input[name=dose_time]");
  const radios = document.querySelectorAll("input[name=dose_taken]");
  if (time && radios.length) {
    const sync = () => {
      const taken = document.querySelector("input[name=dose_taken]:checked");
      time.closest("label").hidden = taken && taken.value === "no";
    };
    radios.forEach((r) => r.addEventListener("change", sync));
    sync();
  }
});
// --- issue 15: after a refused form, move focus to the first field in error ---------------
// The server marks it aria-invalid and puts the message next to it; a collapsed <details>
// holding it is opened (the server opens it too), so the field is on screen and announced.
document.addEventListener("DOMContentLoaded", () => {
  const bad = document.querySelector("[aria-invalid=true]");
  if (!bad) return;
  for (let el = bad.parentElement; el; el = el.parentElement) {
    if (el.tagName === "DETAILS") el.open = true;
  }
  bad.focus();
});
// --- end issue 15 -------------------------------------------------------------------------
// --- issue 15: "Print this summary" (the print stylesheet hides menus and forms) ---------
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
});
// --- end issue 15 -------------------------------------------------------------------------
