// draw.test.mjs BASE_URL POOL_PID_FILE: the page in Debian's Chromium against the real stack
// (nginx + digitd, started by tests/browser_run.sh). Draws digits with real mouse and touch
// strokes and checks the prediction, the 28x28 preview, undo, clear, dark mode, stale
// answers, and the error message when the server is unreachable. Screenshots of failures go
// to tests/browser/artifacts/.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [BASE, PIDFILE] = process.argv.slice(2);
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "artifacts");
const T = 10000; // ms to wait for an answer to appear (not a speed check)

// Strokes in 0..1 canvas units.
const circle = (cx, cy, rx, ry, n = 40) =>
  Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);
const DIGITS = {
  1: [[[0.52, 0.18], [0.5, 0.5], [0.48, 0.82]]],
  7: [[[0.28, 0.22], [0.72, 0.22], [0.6, 0.45], [0.46, 0.82]]],
  0: [circle(0.5, 0.5, 0.2, 0.3)],
};

let failures = 0;
async function check(name, page, fn) {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL: ${name}: ${e.message}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/\W+/g, "_")}.png`) }).catch(() => {});
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function box(page) {
  return page.locator("#canvas").boundingBox();
}

// Interpolates each stroke so the page gets a stream of pointermove events.
function densify(stroke, step = 0.02) {
  const out = [stroke[0]];
  for (let i = 1; i < stroke.length; i++) {
    const [x0, y0] = stroke[i - 1], [x1, y1] = stroke[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  return out;
}

async function drawMouse(page, strokes) {
  const b = await box(page);
  for (const s of strokes) {
    const pts = densify(s);
    await page.mouse.move(b.x + pts[0][0] * b.width, b.y + pts[0][1] * b.height);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(b.x + x * b.width, b.y + y * b.height);
    await page.mouse.up();
  }
}

async function drawTouch(page, strokes) {
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

async function expectDigit(page, d) {
  await page.waitForFunction((want) => document.getElementById("digit").textContent === want, String(d), { timeout: T });
}

async function expectEmpty(page) {
  await page.waitForFunction(() => document.getElementById("digit").textContent === "?", null, { timeout: T });
}

async function run() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
  });
  const desktop = await browser.newContext({ viewport: { width: 1100, height: 800 }, colorScheme: "light" });
  const page = await desktop.newPage();
  let predictRequests = 0;
  page.on("request", (r) => { if (r.url().endsWith("/api/predict")) predictRequests++; });
  await page.goto(BASE + "/");

  await check("nothing drawn: no request", page, async () => {
    await page.waitForTimeout(300);
    assert(predictRequests === 0, `${predictRequests} requests before drawing`);
    assert((await page.textContent("#digit")) === "?", "a digit is shown before drawing");
  });

  for (const d of [1, 7, 0]) {
    await check(`mouse draws ${d}`, page, async () => {
      await page.keyboard.press("Escape");
      await drawMouse(page, DIGITS[d]);
      await expectDigit(page, d);
      const src = await page.getAttribute("#seen", "src");
      assert(src && src.startsWith("data:image/png;base64,"), "no 28x28 preview");
      assert(await page.isVisible("#seen"), "preview hidden");
      const bars = await page.$$eval("#bars li", (li) => li.map((e) => e.querySelector(".fill").style.width));
      assert(bars.length === 10 && parseFloat(bars[d]) > 50, `bars ${bars}`);
      const live = await page.textContent("#status");
      assert(live.includes(`Prediction: ${d}`), `aria-live text '${live}'`);
      assert(/round trip \d+ ms/.test(await page.textContent("#latency")), "no latency shown");
    });
  }

  await check("undo with the button and Ctrl+Z", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[1]);
    await expectDigit(page, 1);
    await page.click("#undo");
    await expectEmpty(page);
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    await page.keyboard.press("Control+z");
    await expectEmpty(page);
  });

  await check("clear with the button and Escape; cleared page sends nothing", page, async () => {
    await drawMouse(page, DIGITS[0]);
    await expectDigit(page, 0);
    await page.click("#clear");
    await expectEmpty(page);
    assert(!(await page.isVisible("#seen")), "preview still shown after clear");
    const before = predictRequests;
    await page.waitForTimeout(400);
    assert(predictRequests === before, "a request was sent for an empty canvas");
    await drawMouse(page, DIGITS[1]);
    await expectDigit(page, 1);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
  });

  await check("a slow stale answer never overwrites a newer one", page, async () => {
    let first = true;
    await page.route("**/api/predict", async (route) => {
      if (first) { // the first (live, mid-stroke) answer arrives last
        first = false;
        await new Promise((r) => setTimeout(r, 1500));
      }
      await route.continue();
    });
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    await page.waitForTimeout(2000); // the delayed answer has come back by now
    assert((await page.textContent("#digit")) === "7", "stale answer replaced the newer one");
    await page.unroute("**/api/predict");
    await page.keyboard.press("Escape");
  });

  await check("dark mode toggle, remembered across reloads", page, async () => {
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.click("#theme");
    assert((await page.getAttribute("html", "data-theme")) === "dark", "no data-theme=dark");
    assert((await bg()) !== light, "background did not change");
    await page.reload();
    assert((await page.getAttribute("html", "data-theme")) === "dark", "dark mode not remembered");
    assert((await page.getAttribute("#theme", "aria-pressed")) === "true", "toggle state not shown");
    await drawMouse(page, DIGITS[1]); // the drawing works the same in dark mode
    await expectDigit(page, 1);
    await page.click("#theme");
    await page.keyboard.press("Escape");
  });

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true });
  const mobile = await phone.newPage();
  await mobile.goto(BASE + "/");
  await check("touch draws on a phone-sized, 3x DPR page", mobile, async () => {
    const dims = await mobile.$eval("#canvas", (c) => [c.width, c.clientWidth]);
    assert(dims[0] >= 2.9 * dims[1], `canvas not sharp: ${dims[0]} px for ${dims[1]} CSS px`);
    await drawTouch(mobile, DIGITS[1]);
    await expectDigit(mobile, 1);
    const scrolled = await mobile.evaluate(() => window.scrollY);
    assert(scrolled === 0, `page scrolled by ${scrolled} while drawing`);
  });

  await check("network failure shows an error, then the page recovers", page, async () => {
    await page.route("**/api/predict", (route) => route.abort("connectionrefused"));
    await drawMouse(page, DIGITS[1]);
    await page.waitForSelector("#error:not([hidden])", { timeout: T });
    assert((await page.textContent("#error")).includes("Cannot reach"), "wrong error text");
    await page.unroute("**/api/predict");
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    assert(await page.isHidden("#error"), "error still shown after recovery");
    await page.keyboard.press("Escape");
  });

  await check("pool stopped: nginx's error status is shown", page, async () => {
    process.kill(Number(readFileSync(PIDFILE, "utf8")), "SIGTERM");
    await page.waitForTimeout(500);
    await drawMouse(page, DIGITS[0]);
    await page.waitForSelector("#error:not([hidden])", { timeout: T });
    const text = await page.textContent("#error");
    assert(text.includes("503"), `error text '${text}'`);
  });

  await browser.close();
}

try {
  await run();
} catch (e) {
  failures++;
  console.log(`FAIL: ${e.stack || e}`);
}
console.log(failures ? `${failures} browser checks failed` : "browser: all passed");
process.exit(failures ? 1 : 0);
