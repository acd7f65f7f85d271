/* Loaded before first paint, so a remembered dark or light theme does not flash. No stored
 * choice (or "system"): the page follows prefers-color-scheme. */
try {
  const t = localStorage.getItem("digitd-theme");
  if (t === "dark" || t === "light") document.documentElement.dataset.theme = t;
} catch (e) { /* storage disabled: follow prefers-color-scheme */ }
