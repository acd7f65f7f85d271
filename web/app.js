/* digitd page: draw with Pointer Events, ask /api/predict while drawing, show the answer.
 *
 * Strokes are kept as vectors in canvas-independent units (0..1 of the side), so the
 * visible canvas can be any CSS size and device pixel ratio, Undo simply redraws, and the
 * image sent to the server is always a 280x280 opaque PNG whatever the theme or screen:
 * black on white for drawings, an upload on the background that keeps its contrast. */
"use strict";

const API = "/api/predict";
const SEND_SIDE = 280;          /* side of the PNG sent to the server */
const LIVE_INTERVAL_MS = 120;   /* at most one live prediction per interval while drawing */
const FETCH_TIMEOUT_MS = 5000;  /* a request unanswered this long is abandoned and shown as an error */
const UPLOAD_MAX_SIDE = 1400;   /* uploads are kept at most this large (enough for a 3x phone canvas) */

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const ui = {
  digit: $("digit"), confidence: $("confidence"), latency: $("latency"), status: $("status"),
  error: $("error"), bars: $("bars"), seen: $("seen"), width: $("width"), theme: $("theme"),
  result: $("result"),
};

/* history: strokes {width, points: [[x, y], ...]} and uploaded images {image, bg, ink}, in order. */
const history = [];
let current = null;             /* the stroke being drawn */
let activePointer = null;

/* ---- drawing ----------------------------------------------------------------------- */

/* The canvas's content box (inside border and padding) in CSS px, fractional, viewport-relative. */
function contentBox() {
  const r = canvas.getBoundingClientRect();
  const s = getComputedStyle(canvas);
  const px = (v) => parseFloat(v) || 0;
  const left = px(s.borderLeftWidth) + px(s.paddingLeft), top = px(s.borderTopWidth) + px(s.paddingTop);
  const right = px(s.borderRightWidth) + px(s.paddingRight), bottom = px(s.borderBottomWidth) + px(s.paddingBottom);
  return { x: r.left + left, y: r.top + top, width: Math.max(1, r.width - left - right), height: Math.max(1, r.height - top - bottom) };
}

/* One backing-store pixel per device pixel of the content box, so strokes are crisp. */
function fitCanvas() {
  const dpr = window.devicePixelRatio || 1;
  const side = Math.max(1, Math.round(contentBox().width * dpr));
  if (canvas.width !== side || canvas.height !== side) {
    canvas.width = side;
    canvas.height = side;
  }
  redraw();
}

function themeColors() {
  const s = getComputedStyle(document.documentElement);
  return { paper: s.getPropertyValue("--paper").trim() || "#fff", ink: s.getPropertyValue("--ink").trim() || "#111" };
}

/* A smooth path through the points: quadratic curves between midpoints, round caps. */
function drawStroke(c, stroke, side, ink) {
  const p = stroke.points;
  c.strokeStyle = ink;
  c.fillStyle = ink;
  c.lineWidth = stroke.width * side;
  c.lineCap = "round";
  c.lineJoin = "round";
  if (p.length === 1) {
    c.beginPath();
    c.arc(p[0][0] * side, p[0][1] * side, c.lineWidth / 2, 0, 2 * Math.PI);
    c.fill();
    return;
  }
  c.beginPath();
  c.moveTo(p[0][0] * side, p[0][1] * side);
  for (let i = 1; i < p.length - 1; i++) {
    const mx = (p[i][0] + p[i + 1][0]) / 2, my = (p[i][1] + p[i + 1][1]) / 2;
    c.quadraticCurveTo(p[i][0] * side, p[i][1] * side, mx * side, my * side);
  }
  const last = p[p.length - 1];
  c.lineTo(last[0] * side, last[1] * side);
  c.stroke();
}

/* An upload fills the square: its background first (see prepareUpload), then the image. */
function drawImageFit(c, item, side) {
  const img = item.image;
  const s = Math.min(side / img.width, side / img.height);
  const w = img.width * s, h = img.height * s;
  c.fillStyle = item.bg;
  c.fillRect(0, 0, side, side);
  c.drawImage(img, (side - w) / 2, (side - h) / 2, w, h);
}

/* Strokes drawn over an upload take the ink that contrasts with the upload's background, on
 * the screen and in the PNG sent alike, so what is sent has one polarity. */
function render(c, side, paper, ink) {
  c.fillStyle = paper;
  c.fillRect(0, 0, side, side);
  let strokeInk = ink;
  for (const item of history.concat(current ? [current] : [])) {
    if (item.image) { drawImageFit(c, item, side); strokeInk = item.ink; }
    else drawStroke(c, item, side, strokeInk);
  }
}

function redraw() {
  const { paper, ink } = themeColors();
  render(ctx, canvas.width, paper, ink);
}

function hasDrawing() {
  return history.length > 0 || (current && current.points.length > 0);
}

/* Pointer position in 0..1 canvas units, right whatever the CSS size, border and padding. */
function toUnit(ev) {
  const b = contentBox();
  const x = (ev.clientX - b.x) / b.width;
  const y = (ev.clientY - b.y) / b.height;
  return [Math.min(1, Math.max(0, x)), Math.min(1, Math.max(0, y))];
}

canvas.addEventListener("pointerdown", (ev) => {
  if (activePointer !== null || (ev.pointerType === "mouse" && ev.button !== 0)) return;
  ev.preventDefault();
  activePointer = ev.pointerId;
  canvas.setPointerCapture(ev.pointerId);
  current = { width: Number(ui.width.value) / SEND_SIDE, points: [toUnit(ev)] };
  announce("");                           /* a new stroke: the last announcement is out of date */
  redraw();
  schedulePredict(false);
});

canvas.addEventListener("pointermove", (ev) => {
  if (ev.pointerId !== activePointer || !current) return;
  ev.preventDefault();
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
  for (const e of events.length ? events : [ev]) current.points.push(toUnit(e));
  redraw();
  schedulePredict(false);
});

function endStroke(ev) {
  if (ev.pointerId !== activePointer) return;
  activePointer = null;
  if (current && current.points.length) history.push(current);
  current = null;
  redraw();
  schedulePredict(true);
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

/* ---- predicting -------------------------------------------------------------------- */

let seqSent = 0, seqShown = 0, inFlight = 0, lastSend = 0, timer = null;

/* While drawing: throttled; on release, undo or upload (final): always, right away. Only a
 * final answer is announced to screen readers; live ones just update the screen. A pending
 * final request is never replaced by a live one (a live call returns while a timer is set). */
function schedulePredict(final) {
  if (!hasDrawing()) { showEmpty(); return; }
  const wait = final ? 0 : Math.max(0, LIVE_INTERVAL_MS - (performance.now() - lastSend));
  if (!final && (timer || inFlight > 1)) return;
  clearTimeout(timer);
  timer = setTimeout(() => { timer = null; predict(final); }, wait);
}

function snapshotPng() {
  const off = document.createElement("canvas");
  off.width = off.height = SEND_SIDE;
  render(off.getContext("2d"), SEND_SIDE, "#ffffff", "#000000");
  return new Promise((resolve) => off.toBlob(resolve, "image/png"));
}

/* A request (its answer's body included) that takes longer than FETCH_TIMEOUT_MS is aborted:
 * a hung server shows the error within that time and frees the in-flight gate above, so
 * live predictions resume with the next stroke. The round trip shown is the network's only:
 * the clock starts after the PNG is encoded, right before fetch. */
async function predict(final) {
  if (!hasDrawing()) { showEmpty(); return; }
  const seq = ++seqSent;
  lastSend = performance.now();
  inFlight++;
  const abort = new AbortController();
  let timedOut = false, timeout = null;
  try {
    const body = await snapshotPng();
    timeout = setTimeout(() => { timedOut = true; abort.abort(); }, FETCH_TIMEOUT_MS);
    const t0 = performance.now();
    const res = await fetch(API, { method: "POST", headers: { "Content-Type": "image/png" }, body, signal: abort.signal });
    let data = null;
    try { data = await res.json(); } catch (e) { if (timedOut) throw e; data = null; }
    const ms = performance.now() - t0;
    if (seq < seqShown) return;          /* a newer answer is already on screen */
    seqShown = seq;
    if (!hasDrawing()) { showEmpty(); return; }
    if (res.ok && data && Array.isArray(data.probabilities)) showResult(data, ms, final);
    else if (res.status === 422) showNothing(final);
    else showError(`The server answered ${res.status}: ${(data && data.error) || res.statusText || "error"}.`);
  } catch (e) {
    if (seq < seqShown) return;
    seqShown = seq;
    if (timedOut) showError(`The recognition server did not answer within ${FETCH_TIMEOUT_MS / 1000} s. Drawing still works; the next stroke retries.`);
    else showError("Cannot reach the recognition server. Check your connection; drawing still works and the next stroke retries.");
  } finally {
    clearTimeout(timeout);
    inFlight--;
  }
}

function buildBars() {
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.innerHTML = `<span>${d}</span><span class="track"><span class="fill"></span></span><span class="pct">–</span>`;
    ui.bars.appendChild(li);
  }
}

function setBars(probs, top) {
  [...ui.bars.children].forEach((li, d) => {
    const p = probs ? probs[d] : 0;
    li.querySelector(".fill").style.width = `${(p * 100).toFixed(1)}%`;
    li.querySelector(".pct").textContent = probs ? `${(p * 100).toFixed(1)} %` : "–";
    li.classList.toggle("top", d === top);
    li.setAttribute("aria-label", probs ? `${d}: ${(p * 100).toFixed(1)} percent` : `${d}`);
  });
}

/* The answer area: the state ("empty", "result", "nothing", "error") styles it, and every
 * state but "result" clears the digit, confidence, bars and preview, so an old answer is
 * never shown next to a newer error or "nothing recognisable". */
function setState(state, digit, confidence) {
  ui.result.dataset.state = state;
  ui.digit.textContent = digit;
  ui.confidence.textContent = confidence;
  if (state === "result") return;
  ui.latency.textContent = "";
  ui.seen.hidden = true;
  ui.seen.removeAttribute("src");
  setBars(null, -1);
}

/* The aria-live region: written only for final answers, and only when its text changes. */
function announce(text) {
  if (ui.status.textContent !== text) ui.status.textContent = text;
}

function showResult(data, ms, final) {
  ui.error.hidden = true;
  const pct = (data.confidence * 100).toFixed(1);
  setState("result", String(data.prediction), `${pct} % sure`);
  const t = data.timing_us || {};
  const server = (t.decode || 0) + (t.preprocess || 0) + (t.inference || 0);
  ui.latency.textContent = `round trip ${ms.toFixed(0)} ms (server ${(server / 1000).toFixed(2)} ms)`;
  if (final) announce(`Prediction: ${data.prediction}, ${pct} percent confidence.`);
  setBars(data.probabilities, data.prediction);
  if (typeof data.input === "string" && data.input.startsWith("data:image/png")) {
    ui.seen.src = data.input;
    ui.seen.hidden = false;
  } else {
    ui.seen.hidden = true;                /* never an older answer's picture next to this one */
    ui.seen.removeAttribute("src");
  }
}

function showEmpty() {
  clearTimeout(timer);
  timer = null;
  seqShown = ++seqSent;                   /* answers still in flight are stale now */
  setState("empty", "?", "Draw a digit");
  announce("");
  ui.error.hidden = true;
}

/* 422: the server found no ink worth reading (e.g. an upload of a blank page). A plain
 * state, not an error. */
function showNothing(final) {
  ui.error.hidden = true;
  setState("nothing", "–", "Nothing recognisable");
  if (final) announce("Nothing recognisable. Draw a larger, darker digit.");
}

/* The alert is rewritten only when its text changes, so repeated failures while drawing
 * are not announced again and again. */
function showError(text) {
  setState("error", "–", "No answer");
  announce("");
  if (ui.error.hidden || ui.error.textContent !== text) ui.error.textContent = text;
  ui.error.hidden = false;
}

/* ---- controls ---------------------------------------------------------------------- */

function undo() {
  if (current) return;
  history.pop();
  redraw();
  schedulePredict(true);
}

function clearAll() {
  history.length = 0;
  current = null;
  activePointer = null;
  redraw();
  showEmpty();
}

$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearAll);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") { ev.preventDefault(); clearAll(); }
  else if ((ev.ctrlKey || ev.metaKey) && !ev.shiftKey && ev.key.toLowerCase() === "z") {
    ev.preventDefault();
    undo();
  }
});

const luminance = (r, g, b) => 0.2126 * r + 0.7152 * g + 0.0722 * b;   /* 0..255 */

/* An uploaded image as a history item: a copy in a canvas (so the file's object URL can be
 * revoked at once), the background it goes on, and the ink for strokes drawn over it.
 * The background is the image's own paper when it has one: the mean colour of its border,
 * weighted by opacity, when the border is mostly opaque (it also fills the margins of an
 * image that is not square). When the border is mostly transparent, the paper is the
 * transparency itself: the background then contrasts with the mean luminance of the visible
 * (opaque) pixels: black under white or light ink, white under dark ink. Either way the
 * PNG sent is opaque and keeps the digit's contrast, whatever the theme. */
function prepareUpload(img) {
  const nw = img.naturalWidth || SEND_SIDE, nh = img.naturalHeight || SEND_SIDE;  /* SVG: maybe 0 */
  const k = Math.min(1, UPLOAD_MAX_SIDE / Math.max(nw, nh));
  const w = Math.max(1, Math.round(nw * k)), h = Math.max(1, Math.round(nh * k));
  const copy = document.createElement("canvas");
  copy.width = w;
  copy.height = h;
  const c = copy.getContext("2d", { willReadFrequently: true });
  c.drawImage(img, 0, 0, w, h);
  const d = c.getImageData(0, 0, w, h).data;
  let inkA = 0, inkL = 0;                       /* every pixel: opacity, opacity x luminance */
  const edge = [0, 0, 0, 0], onEdge = (x, y) => x === 0 || y === 0 || x === w - 1 || y === h - 1;
  let edgeN = 0;
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 4) {
      const a = d[i + 3] / 255;
      inkA += a;
      inkL += a * luminance(d[i], d[i + 1], d[i + 2]);
      if (onEdge(x, y)) {
        edge[0] += a * d[i]; edge[1] += a * d[i + 1]; edge[2] += a * d[i + 2]; edge[3] += a;
        edgeN++;
      }
    }
  }
  let bg;
  if (edge[3] >= edgeN / 2) {                   /* its own paper */
    bg = edge.slice(0, 3).map((v) => Math.round(v / edge[3]));
  } else {                                      /* transparent paper */
    const light = inkA > 0 && inkL / inkA > 127.5;
    bg = light ? [0, 0, 0] : [255, 255, 255];
  }
  return { image: copy, bg: `rgb(${bg.join(",")})`, ink: luminance(...bg) < 127.5 ? "#ffffff" : "#000000" };
}

$("file").addEventListener("change", (ev) => {
  const f = ev.target.files && ev.target.files[0];
  if (!f) return;
  const url = URL.createObjectURL(f);
  const img = new Image();
  img.onload = () => {
    URL.revokeObjectURL(url);                   /* the copy in prepareUpload is what is kept */
    let item;
    try { item = prepareUpload(img); } catch (e) { showError(`${f.name} could not be read: ${e.message}`); return; }
    history.length = 0;
    history.push(item);
    redraw();
    schedulePredict(true);
  };
  img.onerror = () => { URL.revokeObjectURL(url); showError(`${f.name} is not an image this browser can read.`); };
  img.src = url;
  ev.target.value = "";
});

function effectiveTheme() {
  const t = document.documentElement.dataset.theme;
  if (t) return t;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/* A toggle button: its label stays "Dark mode", aria-pressed says whether it is on. */
function syncThemeButton() {
  ui.theme.setAttribute("aria-pressed", String(effectiveTheme() === "dark"));
}

ui.theme.addEventListener("click", () => {
  const next = effectiveTheme() === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  try { localStorage.setItem("digitd-theme", next); } catch (e) { /* private mode: not remembered */ }
  syncThemeButton();
  redraw();
});
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { syncThemeButton(); redraw(); });

/* Refit when the canvas's box changes size (its column narrows or widens, a phone turns, the
 * layout changes for any reason, not only a window resize) and when the device pixel ratio
 * changes (browser zoom, the window moved to another screen), which no resize reports: the
 * backing store stays one pixel per device pixel. Pointers are mapped from the box at each
 * event, so they are right in between too. */
if (typeof ResizeObserver === "function") {
  const ro = new ResizeObserver(() => fitCanvas());
  ro.observe(canvas.parentElement);
  ro.observe(canvas);
} else {
  window.addEventListener("resize", fitCanvas);
}
function watchPixelRatio() {
  const mq = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  mq.addEventListener("change", () => { fitCanvas(); watchPixelRatio(); }, { once: true });
}
watchPixelRatio();
buildBars();
syncThemeButton();
showEmpty();
fitCanvas();
