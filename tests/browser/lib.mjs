// lib.mjs: what draw.test.mjs and screenshot.mjs share: launching Debian's Chromium, the
// digits as strokes, and drawing them with real mouse and touch input.
import { chromium } from "playwright-core";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Playwright starts Chromium with flags that keep a page's timers and rendering running as
// if it were always in front; a user's Chromium has none of them, and without them
// canvas.toBlob waits up to a second for an idle period of a page that draws no frames.
const AUTOMATION_ONLY = ["--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
  "--disable-background-timer-throttling"];

// Debian's /usr/bin/chromium, headless unless asked (a headed one needs a display: the
// test runs under xvfb-run); asUser: without AUTOMATION_ONLY, scheduled as for a user.
// playwright-core never downloads a browser.
export function launch({ headed = false, asUser = false } = {}) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: !headed,
    ignoreDefaultArgs: asUser ? AUTOMATION_ONLY : [],
    args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
  });
}

// Strokes in 0..1 canvas units.
export const circle = (cx, cy, rx, ry, n = 40) =>
  Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);
export const DIGITS = {
  1: [[[0.52, 0.18], [0.5, 0.5], [0.48, 0.82]]],
  7: [[[0.28, 0.22], [0.72, 0.22], [0.6, 0.45], [0.46, 0.82]]],
  0: [circle(0.5, 0.5, 0.2, 0.3)],
};

export async function box(page) {
  return page.locator("#canvas").boundingBox();
}

// Interpolates each stroke so the page gets a stream of pointermove events.
export function densify(stroke, step = 0.02) {
  const out = [stroke[0]];
  for (let i = 1; i < stroke.length; i++) {
    const [x0, y0] = stroke[i - 1], [x1, y1] = stroke[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  return out;
}

// step: the distance between pointer moves, in 0..1 canvas units (densify).
export async function drawMouse(page, strokes, step = 0.02) {
  const b = await box(page);
  for (const s of strokes) {
    const pts = densify(s, step);
    await page.mouse.move(b.x + pts[0][0] * b.width, b.y + pts[0][1] * b.height);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(b.x + x * b.width, b.y + y * b.height);
    await page.mouse.up();
  }
}

export async function drawTouch(page, strokes) {
  const b = await box(page);
  const cdp = await page.context().newCDPSession(page);
  const at = ([x, y]) => [{ x: b.x + x * b.width, y: b.y + y * b.height, id: 1 }];
  for (const s of strokes) {
    const pts = densify(s);
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: at(pts[0]) });
    for (const p of pts.slice(1)) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: at(p) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  }
}

// Waits until the page shows digit d (not a speed check: up to timeout ms).
export async function expectDigit(page, d, timeout = 10000) {
  await page.waitForFunction((want) => document.getElementById("digit").textContent === want, String(d), { timeout });
}
