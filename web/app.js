/* digitd page: draw with Pointer Events or the keyboard, ask /api/predict while drawing, show
 * the answer.
 *
 * Every stroke is kept as data: {width, points: [[x, y], ...]} in the pixels of the SIDE x SIDE
 * drawing that is sent to the server, whatever the canvas's size on screen and its device
 * pixel ratio. Undo and redo swap whole snapshots of that list, so a Clear, an upload or a
 * sample is undone like a stroke; the samples are strokes in the same form. An upload alone
 * is sent as the file's own bytes (see uploadBody); strokes over it, as the canvas's PNG. */
"use strict";

const API = "/api/predict";
const SIDE = 280;               /* side of the drawing sent to the server, in canvas pixels */
const LIVE_INTERVAL_MS = 120;   /* at most one live prediction per interval while drawing */
const FETCH_TIMEOUT_MS = 5000;  /* a request unanswered this long is abandoned (and retried) */
const PENDING_MS = 300;         /* an answer slower than this shows "Working…" */
const SETTLE_MS = 1000;         /* the answer is announced once drawing has paused this long */
const RETRY_MS = [500, 1000, 2000, 4000, 8000];  /* backoff while the server is unreachable */
/* Uploads are kept at most this large: enough for a 3x phone canvas, and the size a photo is
 * sent at when it must be re-encoded (the worker reduces it further by DCT scaling). */
const UPLOAD_MAX_SIDE = 1600;
const MAX_BODY = 2 * 1024 * 1024; /* the server's body limit: digitd --max-body, nginx client_max_body_size */
const KEY_STEP = 8;             /* canvas pixels per arrow key press (x4 with Shift) */
/* A stroke is sent through the fewest of its points that keep every other one this close
 * (canvas pixels): a 1000 Hz mouse or a pen reports a point every fraction of a pixel, and
 * the server simplifies the path again, more coarsely, on its own drawing plane. */
const SEND_TOLERANCE = 0.25;

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const ui = {
  digit: $("digit"), confidence: $("confidence"), advice: $("advice"), latency: $("latency"), status: $("status"),
  error: $("error"), errorText: $("error-text"), bars: $("bars"), seen: $("seen"),
  seenFigure: $("seen-figure"), heat: $("heat"), explain: $("explain"), whyLegend: $("why-legend"),
  width: $("width"), widthDot: $("width-dot"), theme: $("theme"), result: $("result"),
  stripDigit: $("strip-digit"), stripText: $("strip-text"), tools: document.querySelector(".tools"),
};

/* items: strokes and uploaded images {image, bg, ink, body}, in drawing order. undoStack and
 * redoStack hold earlier and later versions of the list (shared items, copied arrays). */
let items = [];
const undoStack = [], redoStack = [];
let current = null;             /* the stroke being drawn */
let activePointer = null;
const pen = { x: SIDE / 2, y: SIDE / 2, down: false };   /* the keyboard's pen */

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
  showWidth();
  redraw();
}

/* The canvas fits the visible height (a phone's toolbars and a landscape screen included):
 * its side is what is left of the viewport below its top, once the tools have their row. */
function fitLayout() {
  const vh = window.visualViewport ? window.visualViewport.height : window.innerHeight;
  const top = canvas.getBoundingClientRect().top + window.scrollY;
  const below = ui.tools.getBoundingClientRect().height + 20;
  const side = Math.max(160, Math.floor(vh - top - below));
  document.documentElement.style.setProperty("--canvas-max", `${side}px`);
}

function themeColors() {
  const s = getComputedStyle(document.documentElement);
  return { paper: s.getPropertyValue("--paper").trim() || "#fff", ink: s.getPropertyValue("--ink").trim() || "#111",
           accent: s.getPropertyValue("--accent").trim() || "#2563eb" };
}

/* A smooth path through the points: quadratic curves between midpoints, round caps. k scales
 * canvas pixels to the target's pixels. */
function drawStroke(c, stroke, k, ink) {
  const p = stroke.points;
  c.strokeStyle = ink;
  c.fillStyle = ink;
  c.lineWidth = stroke.width * k;
  c.lineCap = "round";
  c.lineJoin = "round";
  if (p.length === 1) {
    c.beginPath();
    c.arc(p[0][0] * k, p[0][1] * k, c.lineWidth / 2, 0, 2 * Math.PI);
    c.fill();
    return;
  }
  c.beginPath();
  c.moveTo(p[0][0] * k, p[0][1] * k);
  for (let i = 1; i < p.length - 1; i++) {
    const mx = (p[i][0] + p[i + 1][0]) / 2, my = (p[i][1] + p[i + 1][1]) / 2;
    c.quadraticCurveTo(p[i][0] * k, p[i][1] * k, mx * k, my * k);
  }
  const last = p[p.length - 1];
  c.lineTo(last[0] * k, last[1] * k);
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
  for (const item of current ? items.concat([current]) : items) {
    if (item.image) { drawImageFit(c, item, side); strokeInk = item.ink; }
    else drawStroke(c, item, side / SIDE, strokeInk);
  }
}

function redraw() {
  const { paper, ink, accent } = themeColors();
  render(ctx, canvas.width, paper, ink);
  if (document.activeElement === canvas) {          /* the keyboard's pen: a ring, not sent */
    const k = canvas.width / SIDE;
    ctx.strokeStyle = accent;
    ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
    ctx.beginPath();
    ctx.arc(pen.x * k, pen.y * k, Math.max(4, (Number(ui.width.value) / 2) * k), 0, 2 * Math.PI);
    ctx.stroke();
  }
}

function hasDrawing() {
  return items.length > 0 || (current !== null && current.points.length > 0);
}

/* Pointer position in canvas pixels, right whatever the CSS size, border and padding. */
function toCanvas(ev) {
  const b = contentBox();
  const x = ((ev.clientX - b.x) / b.width) * SIDE;
  const y = ((ev.clientY - b.y) / b.height) * SIDE;
  return [Math.min(SIDE, Math.max(0, x)), Math.min(SIDE, Math.max(0, y))];
}

function beginStroke(point) {
  current = { width: Number(ui.width.value), points: [point] };
  unsettle();
  redraw();
  schedulePredict(false);
}

function extendStroke(points) {
  for (const p of points) current.points.push(p);
  redraw();
  schedulePredict(false);
}

/* Pen up: the stroke joins the drawing as one undoable step, and the final answer is asked. */
function commitStroke() {
  const s = current;
  current = null;
  if (s && s.points.length) change(items.concat([s]));
  else redraw();
}

canvas.addEventListener("pointerdown", (ev) => {
  if (activePointer !== null || (ev.pointerType === "mouse" && ev.button !== 0)) return;
  ev.preventDefault();
  activePointer = ev.pointerId;
  canvas.setPointerCapture(ev.pointerId);
  pen.down = false;
  beginStroke(toCanvas(ev));
});

canvas.addEventListener("pointermove", (ev) => {
  if (ev.pointerId !== activePointer || !current) return;
  ev.preventDefault();
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
  extendStroke((events.length ? events : [ev]).map(toCanvas));
});

function endStroke(ev) {
  if (ev.pointerId !== activePointer) return;
  activePointer = null;
  commitStroke();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

/* Keyboard drawing on the focused canvas: arrows move the pen, Space or Enter puts it down
 * (a stroke starts) or lifts it (the stroke is done). */
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
canvas.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const d = ARROWS[ev.key];
  if (d) {
    ev.preventDefault();
    const step = ev.shiftKey ? 4 * KEY_STEP : KEY_STEP;
    pen.x = Math.min(SIDE, Math.max(0, pen.x + d[0] * step));
    pen.y = Math.min(SIDE, Math.max(0, pen.y + d[1] * step));
    if (pen.down && current) extendStroke([[pen.x, pen.y]]);
    else redraw();
  } else if (ev.key === " " || ev.key === "Enter") {
    ev.preventDefault();
    if (activePointer !== null) return;
    pen.down = !pen.down;
    if (pen.down) beginStroke([pen.x, pen.y]);
    else commitStroke();
  }
});
canvas.addEventListener("focus", redraw);
canvas.addEventListener("blur", () => {
  if (pen.down) { pen.down = false; commitStroke(); }
  redraw();
});

/* ---- undo, redo, clear ------------------------------------------------------------- */

/* Every change to the drawing goes through here: one undo step, the redo list dropped. */
function change(next) {
  undoStack.push(items);
  redoStack.length = 0;
  items = next;
  drawingChanged();
}

function drawingChanged() {
  redraw();
  describeCanvas();
  if (hasDrawing()) schedulePredict(true);
  else showEmpty();
}

function undo() {
  if (current || !undoStack.length) return;
  redoStack.push(items);
  items = undoStack.pop();
  drawingChanged();
}

function redo() {
  if (current || !redoStack.length) return;
  undoStack.push(items);
  items = redoStack.pop();
  drawingChanged();
}

function clearAll() {
  current = null;
  activePointer = null;
  pen.down = false;
  if (items.length) change([]);
  else { redraw(); showEmpty(); }
}

$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("clear").addEventListener("click", clearAll);
document.addEventListener("keydown", (ev) => {
  const mod = ev.ctrlKey || ev.metaKey, key = ev.key.toLowerCase();
  if (ev.key === "Escape") { ev.preventDefault(); clearAll(); }
  else if (mod && ((key === "z" && ev.shiftKey) || (key === "y" && !ev.shiftKey))) { ev.preventDefault(); redo(); }
  else if (mod && key === "z") { ev.preventDefault(); undo(); }
});

/* ---- samples ----------------------------------------------------------------------- */

/* Drawings of each digit as strokes, in canvas pixels, for people who cannot draw here (a
 * keyboard, a screen reader) or want to see what the network does. Replayed as strokes. */
const SAMPLES = {
  0: [[[140, 52], [105, 66], [84, 110], [82, 160], [98, 210], [140, 232], [180, 212], [198, 160], [196, 108], [176, 66], [140, 52]]],
  1: [[[132, 70], [152, 50], [148, 140], [145, 232]]],
  2: [[[88, 100], [108, 64], [142, 50], [178, 62], [194, 98], [182, 136], [148, 172], [108, 206], [84, 230], [200, 228]]],
  3: [[[86, 72], [128, 50], [176, 62], [186, 102], [142, 134], [188, 160], [192, 204], [150, 232], [88, 220]]],
  4: [[[122, 50], [90, 160], [204, 160]], [[172, 80], [166, 236]]],
  5: [[[104, 56], [98, 130], [146, 118], [188, 146], [192, 192], [154, 228], [94, 218]], [[104, 56], [192, 56]]],
  6: [[[176, 54], [130, 80], [100, 130], [92, 182], [112, 222], [152, 232], [186, 206], [180, 166], [144, 150], [104, 172]]],
  7: [[[80, 60], [200, 60], [152, 140], [122, 232]]],
  8: [[[140, 140], [100, 115], [96, 80], [140, 50], [184, 80], [180, 115], [140, 140], [96, 172], [92, 212], [140, 236], [188, 212], [184, 170], [140, 140]]],
  9: [[[186, 92], [150, 54], [106, 70], [96, 110], [130, 136], [182, 116], [186, 92], [180, 160], [166, 236]]],
};

/* A sample's strokes are added one by one (Undo takes them back one by one), on an empty
 * drawing; what was there before comes back with Undo too. */
function drawSample(d) {
  if (current) return;
  if (items.length) change([]);
  for (const points of SAMPLES[d]) {
    undoStack.push(items);
    items = items.concat([{ width: 20, points: points.map((p) => p.slice()) }]);
  }
  redoStack.length = 0;
  unsettle();
  drawingChanged();
}

for (const d of Object.keys(SAMPLES)) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = d;
  b.setAttribute("aria-label", `Draw a sample ${d}`);
  b.addEventListener("click", () => drawSample(d));
  $("samples").appendChild(b);
}

/* ---- predicting -------------------------------------------------------------------- */

let seqSent = 0, seqShown = 0, inFlight = 0, lastSend = 0, timer = null;
let retryTimer = null, retries = 0;

/* While drawing: throttled; on pen-up, undo, redo, an upload or a sample (final): always,
 * right away. A pending final request is never replaced by a live one (a live call returns
 * while a timer is set). */
function schedulePredict(final) {
  if (!hasDrawing()) { showEmpty(); return; }
  const wait = final ? 0 : Math.max(0, LIVE_INTERVAL_MS - (performance.now() - lastSend));
  if (!final && (timer || inFlight > 1)) return;
  clearTimeout(timer);
  clearTimeout(retryTimer);
  retryTimer = null;
  timer = setTimeout(() => { timer = null; predict(final); }, wait);
}

/* How the drawing becomes a request body. Strokes alone, all of one pen width and within the
 * server's limits: the strokes themselves, in canvas pixels (the server draws them with the
 * trainer's round pen at the scale the model needs: nothing to encode or decode). Anything
 * else (an upload, strokes over it, several pen widths): the SIDE x SIDE opaque PNG, black on
 * white. toDataURL, not toBlob: toBlob waits for a frame, which a page that is not animating
 * may not draw for a second. */
const MAX_STROKES = 256, MAX_POINTS = 2048; /* the server's limits (README, the API) */
function strokesBody() {
  const all = current && current.points.length ? items.concat([current]) : items;
  const width = all.length ? all[0].width : 0;
  if (!all.length || all.length > MAX_STROKES || all.some((s) => s.image || s.width !== width)) return null;
  const r = (v) => Math.round(v * 10) / 10; /* a shorter body, a cheaper parse */
  const strokes = all.map((s) => simplifyPath(s.points.map((p) => [r(p[0]), r(p[1])]), SEND_TOLERANCE));
  if (strokes.reduce((n, s) => n + s.length, 0) > MAX_POINTS) return null;
  return { body: JSON.stringify({ strokes, width, side: SIDE }), contentType: "application/json" };
}

/* Douglas-Peucker: the points of a path that keep each point left out within tol of the
 * polyline through them (its first and last always). A point is measured to the segment
 * between the ends of its span, not to their line: a stroke that doubles back along itself
 * keeps its turn. Repeated points (a pointer at rest) go first. */
function simplifyPath(path, tol) {
  const pts = path.filter((p, i) => i === 0 || p[0] !== path[i - 1][0] || p[1] !== path[i - 1][1]);
  if (pts.length < 3) return pts;
  const keep = new Uint8Array(pts.length);
  keep[0] = keep[pts.length - 1] = 1;
  const spans = [[0, pts.length - 1]];
  while (spans.length) {
    const [a, b] = spans.pop();
    const [ax, ay] = pts[a], dx = pts[b][0] - ax, dy = pts[b][1] - ay, l2 = dx * dx + dy * dy;
    let worst = tol * tol, at = -1;
    for (let i = a + 1; i < b; i++) {
      const px = pts[i][0] - ax, py = pts[i][1] - ay;
      const t = l2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / l2)) : 0;
      const ex = px - t * dx, ey = py - t * dy, d2 = ex * ex + ey * ey;
      if (d2 > worst) { worst = d2; at = i; }
    }
    if (at >= 0) { keep[at] = 1; spans.push([a, at], [at, b]); }
  }
  return pts.filter((_, i) => keep[i]);
}

function dataUrlBytes(url) {
  const bin = atob(url.slice(url.indexOf(",") + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function drawingBody() {
  if (items.length === 1 && items[0].image && !current) return items[0].body;
  const strokes = strokesBody();
  if (strokes) return strokes;
  const off = document.createElement("canvas");
  off.width = off.height = SIDE;
  render(off.getContext("2d"), SIDE, "#ffffff", "#000000");
  return { body: dataUrlBytes(off.toDataURL("image/png")), contentType: "image/png" };
}

/* Answers worth retrying: the server unreachable, or nginx with no pool behind it. */
const RETRYABLE = new Set([502, 503, 504]);

/* A request (its answer's body included) that takes longer than FETCH_TIMEOUT_MS is aborted.
 * The round trip shown is the network's only: the clock starts after the body is made. */
async function predict(final) {
  if (!hasDrawing()) { showEmpty(); return; }
  const seq = ++seqSent;
  lastSend = performance.now();
  inFlight++;
  const explain = final && ui.explain.checked;
  const abort = new AbortController();
  let timedOut = false, timeout = null;
  const slow = setTimeout(() => { if (seq === seqSent && seq > seqShown) ui.result.dataset.pending = "true"; }, PENDING_MS);
  try {
    const sent = await drawingBody();
    const { body, contentType } = sent;
    timeout = setTimeout(() => { timedOut = true; abort.abort(); }, FETCH_TIMEOUT_MS);
    const t0 = performance.now();
    const res = await fetch(explain ? `${API}?explain=1` : API,
      { method: "POST", headers: { "Content-Type": contentType }, body, signal: abort.signal });
    let data = null;
    try { data = await res.json(); } catch (e) { if (timedOut) throw e; data = null; }
    const ms = performance.now() - t0;
    if (seq < seqShown) return;          /* a newer answer is already on screen */
    seqShown = seq;
    if (!hasDrawing()) { showEmpty(); return; }
    /* A file the server will not take as it is (a deployment's smaller body limit, a PNG
     * over its side limit, a progressive JPEG over its pixel budget): sent again as the
     * browser's scaled JPEG, once. */
    const upload = items.length === 1 && items[0].body === sent && sent.own ? items[0] : null;
    if (res.status === 413 && upload) { upload.body = jpegBody(upload); predict(final); return; }
    if (res.ok && data && Array.isArray(data.probabilities)) showResult(data, ms, final);
    else if (res.status === 422) showNothing(final);
    else showError(`The server answered ${res.status}: ${(data && data.error) || res.statusText || "error"}.`, RETRYABLE.has(res.status));
  } catch (e) {
    if (seq < seqShown) return;
    seqShown = seq;
    if (timedOut) showError(`The recognition server did not answer within ${FETCH_TIMEOUT_MS / 1000} s.`, true);
    else showError("Cannot reach the recognition server. Check your connection; drawing still works.", true);
  } finally {
    clearTimeout(slow);
    clearTimeout(timeout);
    inFlight--;
  }
}

/* ---- showing the answer ------------------------------------------------------------ */

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

/* The answer area: the state ("empty", "result", "unsure", "notdigit", "nothing", "error")
 * styles it; the digit and its line are shown twice (the card, and the strip above the
 * canvas on small screens). Every state but an answer clears the bars and the preview, so an
 * old answer is never shown next to a newer error or "nothing recognisable". */
function setState(state, digit, text, final = true) {
  ui.result.dataset.state = state;
  ui.result.dataset.final = String(final);
  delete ui.result.dataset.pending;
  ui.digit.textContent = ui.stripDigit.textContent = digit;
  ui.confidence.textContent = ui.stripText.textContent = text;
  ui.advice.textContent = "";
  if (state !== "error") { ui.error.hidden = true; clearTimeout(retryTimer); retryTimer = null; retries = 0; }
  if (state === "result" || state === "unsure" || state === "notdigit") return;
  ui.latency.textContent = "";
  ui.seenFigure.hidden = true;
  ui.seen.removeAttribute("src");
  setBars(null, -1);
}

/* The aria-live region says a settled answer only: SETTLE_MS after the final answer of a
 * pause in drawing; a new stroke silences what was pending. The canvas's own label
 * describes the drawing and its answer at any time, for a screen reader that asks. */
let settleTimer = null, answerSaid = "";
function announce(text) {
  if (ui.status.textContent !== text) ui.status.textContent = text;
}
function settle(text) {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => announce(text), SETTLE_MS);
}
function unsettle() {
  clearTimeout(settleTimer);
  announce("");
}
function describeCanvas() {
  const n = items.filter((i) => !i.image).length, img = items.some((i) => i.image);
  const what = (img ? "an uploaded image" : "") + (img && n ? " and " : "") +
    (n ? `${n} stroke${n > 1 ? "s" : ""}` : "") || "empty";
  canvas.setAttribute("aria-label", `Drawing canvas: ${what}${hasDrawing() && answerSaid ? `. ${answerSaid}` : ""}`);
}

function showResult(data, ms, final) {
  const pct = (data.confidence * 100).toFixed(1);
  const top = Array.isArray(data.top3) ? data.top3 : [];
  const verdict = data.verdict || "digit";     /* servers without doubt say nothing: a digit */
  if (verdict === "unsure" && top.length >= 2) {
    const q = `${top[0].digit} or ${top[1].digit}?`;
    setState("unsure", q, "Not sure", final);
    answerSaid = `${q} The network is not sure.`;
  } else if (verdict === "not_a_digit") {
    setState("notdigit", "", "That does not look like a digit", final);
    answerSaid = "That does not look like a digit.";
  } else {
    setState("result", String(data.prediction), `${pct} % sure`, final);
    answerSaid = `Prediction: ${data.prediction}, ${pct} percent confidence.`;
  }
  const t = data.timing_us || {};
  const server = (t.decode || 0) + (t.preprocess || 0) + (t.inference || 0) + (t.explain || 0);
  ui.latency.textContent = `round trip ${ms.toFixed(0)} ms (server ${(server / 1000).toFixed(2)} ms)`;
  setBars(data.probabilities, verdict === "digit" ? data.prediction : -1);
  const seen = typeof data.input === "string" && data.input.startsWith("data:image/png");
  if (seen) ui.seen.src = data.input;
  else ui.seen.removeAttribute("src");        /* never an older answer's picture next to this one */
  ui.seenFigure.hidden = !seen;
  showHeat(Array.isArray(data.explain) && data.explain.length === 784 ? data.explain : null);
  if (final) { describeCanvas(); settle(answerSaid); }
}

/* "Why this digit": the server's occlusion map over the 28x28 preview, orange where the
 * ink made the answer, blue where it spoke against it, scaled to the map's largest value. */
function showHeat(map) {
  ui.heat.hidden = ui.whyLegend.hidden = !map;
  if (!map) return;
  const c = ui.heat.getContext("2d"), img = c.createImageData(28, 28);
  const top = Math.max(1e-6, ...map.map(Math.abs));
  map.forEach((v, i) => {
    const a = Math.min(1, Math.abs(v) / top);
    img.data.set(v >= 0 ? [255, 122, 0, Math.round(215 * a)] : [0, 132, 255, Math.round(215 * a)], i * 4);
  });
  c.putImageData(img, 0, 0);
}

function showEmpty() {
  clearTimeout(timer);
  timer = null;
  seqShown = ++seqSent;                   /* answers still in flight are stale now */
  answerSaid = "";
  setState("empty", "?", "Draw a digit from 0 to 9");
  unsettle();
  describeCanvas();
}

/* 422: the server found no digit (a blank page, a photo where it found no digit on the
 * paper, a tap of the pen). A plain state, not an error, with what to do about it: shown
 * under the message in the card, after it in the strip, and announced with it. */
function showNothing(final) {
  const upload = items.some((i) => i.image);
  const text = upload ? "No digit found in the image" : "Nothing recognisable";
  const hint = upload ? "Fill the frame with the digit, written in dark pen on light paper."
                      : "Draw a larger, darker digit.";
  setState("nothing", "", text, final);
  ui.advice.textContent = hint;
  ui.stripText.textContent = answerSaid = `${text}. ${hint}`;
  if (final) { describeCanvas(); settle(answerSaid); }
}

/* An error, retried with backoff when it may pass by itself (no server, no pool, a timeout):
 * the retry sends the drawing as it is then, and a good answer clears the error. The alert
 * is rewritten only when its text changes, so repeated failures are not announced again
 * and again. */
function showError(text, retry) {
  setState("error", "", "No answer");
  unsettle();
  let shown = text;
  clearTimeout(retryTimer);
  retryTimer = null;
  if (retry && hasDrawing() && !current) {     /* while a stroke goes on, live requests retry */
    const wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
    retries++;
    shown += ` Retrying in ${Math.max(1, Math.round(wait / 1000))} s.`;
    retryTimer = setTimeout(() => { retryTimer = null; predict(true); }, wait);
  }
  $("retry").hidden = !retry;
  if (ui.error.hidden || ui.errorText.textContent !== shown) ui.errorText.textContent = shown;
  ui.error.hidden = false;
}
$("retry").addEventListener("click", () => { clearTimeout(retryTimer); retryTimer = null; predict(true); });

ui.explain.addEventListener("change", () => { if (hasDrawing()) schedulePredict(true); });

/* ---- uploads: the file picker, the camera, drag and drop, paste -------------------- */

const luminance = (r, g, b) => 0.2126 * r + 0.7152 * g + 0.0722 * b;   /* 0..255 */

/* An uploaded image as a drawing item: an upright copy in a canvas, at most UPLOAD_MAX_SIDE
 * a side, the background it goes on, and the ink for strokes drawn over it.
 * The background is the image's own paper when it has one: the mean colour of its border,
 * weighted by opacity, when the border is mostly opaque (it also fills the margins of an
 * image that is not square). When the border is mostly transparent, the paper is the
 * transparency itself: the background then contrasts with the mean luminance of the visible
 * (opaque) pixels: black under white or light ink, white under dark ink. Either way the
 * PNG sent is opaque and keeps the digit's contrast, whatever the theme. */
function prepareUpload(img) {
  const nw = img.width || SIDE, nh = img.height || SIDE;  /* SVG: maybe 0 */
  const k = Math.min(1, UPLOAD_MAX_SIDE / Math.max(nw, nh));
  const w = Math.max(1, Math.round(nw * k)), h = Math.max(1, Math.round(nh * k));
  const copy = document.createElement("canvas");
  copy.width = w;
  copy.height = h;
  const c = copy.getContext("2d", { willReadFrequently: true });
  c.imageSmoothingQuality = "high";             /* a 12 MP photo shrunk 2.5x: not aliased */
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

/* The two formats the server decodes, by their first bytes (a pasted file may have no type,
 * a file's name and type may say otherwise than its bytes). */
function imageType(bytes) {
  const starts = (seq) => seq.every((v, i) => bytes[i] === v);
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  return null;
}

/* An upload's upright copy flattened on its background, as a JPEG: for a photo over the
 * body limit and for formats the server does not read (WebP, HEIC, GIF, SVG...). Encoded
 * with toDataURL, synchronously (70-100 ms at 1600x1200 on a 2-core machine, base64 decode
 * included), not toBlob, which in a headed Chromium waits for an idle period (about a
 * second when nothing animates). Smaller and
 * coarser only if a copy does not fit the limit, which a 1600 px JPEG at 0.9 does. */
function jpegBody(item) {
  const img = item.image, off = document.createElement("canvas"), c = off.getContext("2d");
  let body = null;
  for (const [side, quality] of [[UPLOAD_MAX_SIDE, 0.9], [1024, 0.8]]) {
    const k = Math.min(1, side / Math.max(img.width, img.height));
    off.width = Math.max(1, Math.round(img.width * k));
    off.height = Math.max(1, Math.round(img.height * k));
    c.fillStyle = item.bg;                      /* a transparent PNG's paper, as on screen */
    c.fillRect(0, 0, off.width, off.height);
    c.imageSmoothingQuality = "high";
    c.drawImage(img, 0, 0, off.width, off.height);
    body = dataUrlBytes(off.toDataURL("image/jpeg", quality));
    if (body.length <= MAX_BODY) break;
  }
  return { body, contentType: "image/jpeg" };
}

/* What an upload sends while nothing is drawn over it: a JPEG or PNG that fits the body limit
 * goes as the file's own bytes, with its type (a phone's photo keeps its resolution and EXIF
 * orientation, and the worker finds the digit on the paper in it); anything else as
 * jpegBody. own: the file's bytes, which predict() re-encodes once if the server says 413. */
function uploadBody(bytes, item) {
  const type = imageType(bytes);
  if (type && bytes.length <= MAX_BODY) return { body: bytes, contentType: type, own: true };
  return jpegBody(item);
}

/* A PNG or JPEG whose end is missing: browsers draw what arrived and grey or transparent
 * for the rest, and the network would read that with confidence. PNG ends with its IEND
 * chunk; a JPEG with its EOI marker (FF D9, which cannot occur inside the coded data). */
function truncated(bytes) {
  const tail = bytes.subarray(Math.max(0, bytes.length - 1024));
  const has = (seq) => tail.some((_, i) => seq.every((v, j) => tail[i + j] === v));
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return !has([0x49, 0x45, 0x4e, 0x44]);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return !has([0xff, 0xd9]);
  return false;
}

/* The file decoded, upright: createImageBitmap turns it by its EXIF orientation and decodes
 * off the main thread (a 12 MP photo); what it cannot decode (an SVG) goes through an <img>,
 * which browsers draw upright too. Rejects when the browser cannot read it at all. */
async function decodeImage(f) {
  try {
    return await createImageBitmap(f, { imageOrientation: "from-image" });
  } catch (e) { /* below */ }
  const url = URL.createObjectURL(f);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);                   /* the copy in prepareUpload is what is kept */
  }
}

async function loadImageFile(f) {
  const name = f.name || "the pasted image";
  /* a photo takes a moment to decode and encode: "Working…" as for a slow answer */
  const slow = setTimeout(() => { ui.result.dataset.pending = "true"; }, PENDING_MS);
  try {
    let bytes, img, item;
    try { bytes = new Uint8Array(await f.arrayBuffer()); } catch (e) { showError(`${name} could not be read: ${e.message}`, false); return; }
    if (truncated(bytes)) { showError(`${name} is cut short (the end of the file is missing); try saving it again.`, false); return; }
    try { img = await decodeImage(f); } catch (e) { showError(`${name} is not an image this browser can read.`, false); return; }
    try {
      item = prepareUpload(img);
      item.body = uploadBody(bytes, item);
    } catch (e) {
      showError(`${name} could not be read: ${e.message}`, false);
      return;
    } finally {
      if (img.close) img.close();               /* an ImageBitmap's memory, now */
    }
    unsettle();
    change([item]);
  } finally {
    clearTimeout(slow);
  }
}

for (const input of [$("file"), $("camera")]) {
  input.addEventListener("change", (ev) => {
    const f = ev.target.files && ev.target.files[0];
    if (f) loadImageFile(f);
    ev.target.value = "";
  });
}
const droppedImage = (list) => [...(list || [])].find((f) => f.type.startsWith("image/"));
document.addEventListener("dragover", (ev) => { ev.preventDefault(); });
document.addEventListener("drop", (ev) => {
  ev.preventDefault();
  const f = droppedImage(ev.dataTransfer && ev.dataTransfer.files);
  if (f) loadImageFile(f);
});
document.addEventListener("paste", (ev) => {
  const f = droppedImage(ev.clipboardData && ev.clipboardData.files);
  if (f) { ev.preventDefault(); loadImageFile(f); }
});

/* ---- stroke width, theme, layout --------------------------------------------------- */

/* The width control shows the pen it sets: a dot as wide as the stroke on the canvas. */
function showWidth() {
  const px = (Number(ui.width.value) * contentBox().width) / SIDE;
  ui.widthDot.style.width = ui.widthDot.style.height = `${px.toFixed(1)}px`;
}
ui.width.addEventListener("input", () => { showWidth(); redraw(); });

/* The theme button cycles: follow the system, dark, light. */
const THEMES = ["system", "dark", "light"];
function storedTheme() {
  return document.documentElement.dataset.theme || "system";
}
function syncThemeButton() {
  ui.theme.textContent = `Theme: ${storedTheme()}`;
}
ui.theme.addEventListener("click", () => {
  const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
  if (next === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = next;
  try {
    if (next === "system") localStorage.removeItem("digitd-theme");
    else localStorage.setItem("digitd-theme", next);
  } catch (e) { /* private mode: not remembered */ }
  syncThemeButton();
  redraw();
});
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);

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
(window.visualViewport || window).addEventListener("resize", fitLayout);
function watchPixelRatio() {
  const mq = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  mq.addEventListener("change", () => { fitCanvas(); watchPixelRatio(); }, { once: true });
}
watchPixelRatio();
buildBars();
syncThemeButton();
showEmpty();
fitLayout();
fitCanvas();
