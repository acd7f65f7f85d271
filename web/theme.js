/* Loaded before first paint, so a remembered dark or light mode does not flash. */
try {
  const t = localStorage.getItem("digitd-theme");
  if (t === "dark" || t === "light") document.documentElement.dataset.theme = t;
} catch (e) { /* storage disabled: follow prefers-color-scheme */ }
