// draw.test.mjs BASE_URL POOL_PID_FILE: the page in Debian's Chromium against the real stack
// (nginx + digitd, started by tests/browser_run.sh). Draws digits with real mouse and touch
// strokes and checks the prediction, the 28x28 preview, undo, clear, dark mode, stale
// answers, the screen-reader announcements, and the error message when the server is
// unreachable. Screenshots of failures go to $ARTIFACTS (tests/web.cmake sets it in the
// build dir; default tests/browser/artifacts/), and their paths are printed.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [BASE, PIDFILE] = process.argv.slice(2);
const ARTIFACTS = resolve(process.env.ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), "artifacts"));
const T = 10000; // ms to wait for an answer to appear (not a speed check)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Screenshots of an earlier run's failures would be mistaken for this run's.
try {
  for (const f of readdirSync(ARTIFACTS)) if (f.endsWith(".png")) rmSync(join(ARTIFACTS, f));
} catch (e) { /* no directory yet */ }

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
    const shot = join(ARTIFACTS, `${name.replace(/\W+/g, "_")}.png`);
    await page.screenshot({ path: shot, fullPage: true })
      .then(() => console.log(`  screenshot: ${shot}`))
      .catch((err) => console.log(`  no screenshot: ${err.message}`));
  }
}

// Any uncaught exception in the page is a failure, whichever check was running.
function watchErrors(page, label) {
  page.on("pageerror", (e) => { failures++; console.log(`FAIL: ${label}: uncaught page error: ${e.message}`); });
}

// The answer area shows no digit, confidence, bars or preview (after a clear, an error, a 422).
async function assertNoAnswer(page, why) {
  const s = await page.evaluate(() => ({
    digit: document.getElementById("digit").textContent,
    confidence: document.getElementById("confidence").textContent,
    bars: [...document.querySelectorAll("#bars .fill")].map((f) => parseFloat(f.style.width) || 0),
    top: document.querySelectorAll("#bars li.top").length,
    seen: !document.getElementById("seen").hidden,
    state: document.getElementById("result").dataset.state,
  }));
  assert(!/[0-9]/.test(s.digit), `${why}: digit '${s.digit}' still shown`);
  assert(!s.confidence.includes("sure"), `${why}: confidence '${s.confidence}' still shown`);
  assert(s.bars.every((w) => w === 0) && s.top === 0, `${why}: bars still shown: ${s.bars}`);
  assert(!s.seen, `${why}: the 28x28 preview still shown`);
  assert(s.state !== "result", `${why}: data-state '${s.state}'`);
}

async function expectAnnounced(page, d) {
  await page.waitForFunction((want) => document.getElementById("status").textContent.includes(want),
    `Prediction: ${d}`, { timeout: T });
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
  watchErrors(page, "desktop page");
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
      await expectAnnounced(page, d); // the final answer (on release) is announced
      const src = await page.getAttribute("#seen", "src");
      assert(src && src.startsWith("data:image/png;base64,"), "no 28x28 preview");
      assert(await page.isVisible("#seen"), "preview hidden");
      const bars = await page.$$eval("#bars li", (li) => li.map((e) => e.querySelector(".fill").style.width));
      assert(bars.length === 10 && parseFloat(bars[d]) > 50, `bars ${bars}`);
      assert((await page.$$eval("#bars li", (li) => li.findIndex((e) => e.classList.contains("top")))) === d, "top bar is not the digit");
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

  await check("aria-live announces the final answer only, not each live one", page, async () => {
    await page.keyboard.press("Escape");
    const b = await box(page);
    const pts = densify(DIGITS[1][0]);
    await page.mouse.move(b.x + pts[0][0] * b.width, b.y + pts[0][1] * b.height);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(b.x + x * b.width, b.y + y * b.height);
    // Still drawing: a live answer is on screen, but nothing is announced yet.
    await page.waitForFunction(() => document.getElementById("result").dataset.state === "result", null, { timeout: T });
    await sleep(300); // more live answers come back meanwhile
    const during = await page.textContent("#status");
    assert(during === "", `announced while drawing: '${during}'`);
    await page.mouse.up();
    await expectAnnounced(page, 1);
    await page.keyboard.press("Escape");
  });

  await check("a slow stale answer never overwrites a newer one", page, async () => {
    // Stroke A alone reads as another digit; A + B is a 7. Every answer to stroke A's
    // requests (live and final) is held back until stroke B's final answer is on screen.
    const strokeA = [[0.72, 0.22], [0.6, 0.45], [0.46, 0.82]];
    const strokeB = [[0.28, 0.22], [0.72, 0.22]];
    let holding = true;
    const held = [];
    await page.route("**/api/predict", async (route) => {
      if (!holding) return route.continue();
      const rec = { done: false };
      held.push(rec);
      await sleep(2500);
      const res = await route.fetch();
      rec.status = res.status();
      rec.body = await res.json().catch(() => null);
      await route.fulfill({ response: res });
      rec.done = true;
    });
    await page.keyboard.press("Escape");
    await drawMouse(page, [strokeA]);
    await sleep(300); // stroke A's final request has gone out (and is held)
    holding = false;
    const heldCount = held.length;
    await drawMouse(page, [strokeB]);
    await expectDigit(page, 7);
    await expectAnnounced(page, 7);
    for (let i = 0; i < 100 && !held.every((r) => r.done); i++) await sleep(100);
    assert(held.every((r) => r.done), "held answers never arrived");
    await sleep(300); // the page has handled them
    // The check means something only if the stale answer is a real, different prediction.
    const stale = held[heldCount - 1];
    assert(heldCount >= 1 && stale.status === 200 && stale.body && Number.isInteger(stale.body.prediction),
      `stroke A's final answer was not a prediction: ${stale && stale.status} ${JSON.stringify(stale && stale.body)}`);
    assert(stale.body.prediction !== 7, "stroke A alone was read as 7: the check cannot tell stale from new");
    assert((await page.textContent("#digit")) === "7", "stale answer replaced the newer one");
    assert((await page.$$eval("#bars li", (li) => li.findIndex((e) => e.classList.contains("top")))) === 7,
      "stale answer replaced the bars");
    assert((await page.textContent("#status")).includes("Prediction: 7"), "stale answer was announced");
    await page.unroute("**/api/predict");
    await page.keyboard.press("Escape");
  });

  await check("dark mode toggle, remembered across reloads", page, async () => {
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    assert((await page.getAttribute("#theme", "aria-pressed")) === "false", "toggle pressed in light mode");
    await page.click("#theme");
    assert((await page.getAttribute("html", "data-theme")) === "dark", "no data-theme=dark");
    assert((await page.getAttribute("#theme", "aria-pressed")) === "true", "toggle not pressed in dark mode");
    assert((await page.textContent("#theme")).trim() === "Dark mode", "a pressed toggle's label must not change");
    assert((await bg()) !== light, "background did not change");
    await page.reload();
    assert((await page.getAttribute("html", "data-theme")) === "dark", "dark mode not remembered");
    assert((await page.getAttribute("#theme", "aria-pressed")) === "true", "toggle state not shown");
    await drawMouse(page, DIGITS[1]); // the drawing works the same in dark mode
    await expectDigit(page, 1);
    await page.click("#theme");
    assert((await page.getAttribute("#theme", "aria-pressed")) === "false", "toggle still pressed in light mode");
    assert((await bg()) === light, "light background not restored");
    await page.keyboard.press("Escape");
  });

  // A fresh context: nothing in localStorage, the system asks for dark.
  const sys = await browser.newContext({ viewport: { width: 1100, height: 800 }, colorScheme: "light" });
  const sysPage = await sys.newPage();
  watchErrors(sysPage, "prefers-color-scheme page");
  await sysPage.emulateMedia({ colorScheme: "dark" });
  await sysPage.goto(BASE + "/");
  await check("no stored preference: prefers-color-scheme dark gives the dark theme", sysPage, async () => {
    const look = () => sysPage.evaluate(() => {
      const c = document.getElementById("canvas");
      const px = c.getContext("2d").getImageData(2, 2, 1, 1).data;
      return { bg: getComputedStyle(document.body).backgroundColor, paper: px[0] + px[1] + px[2],
               pressed: document.getElementById("theme").getAttribute("aria-pressed"),
               stored: localStorage.getItem("digitd-theme"), attr: document.documentElement.dataset.theme };
    });
    let s = await look();
    assert(s.stored === null && s.attr === undefined, `a stored or forced theme: ${JSON.stringify(s)}`);
    assert(s.bg === "rgb(17, 20, 24)", `background ${s.bg}, not the dark one`);
    assert(s.paper < 3 * 64, `canvas paper not dark: ${s.paper}`);
    assert(s.pressed === "true", "dark mode toggle not pressed under a dark system theme");
    await sysPage.emulateMedia({ colorScheme: "light" }); // the system switches: the page follows
    await sysPage.waitForFunction(() => document.getElementById("theme").getAttribute("aria-pressed") === "false", null, { timeout: T });
    s = await look();
    assert(s.bg !== "rgb(17, 20, 24)" && s.paper > 3 * 192, `still dark after the system went light: ${JSON.stringify(s)}`);
  });
  await sys.close();

  // A small phone: the page is taller than the screen, so a swipe scrolls it, except on
  // the canvas (touch-action: none).
  const phone = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true });
  const mobile = await phone.newPage();
  watchErrors(mobile, "phone page");
  await mobile.goto(BASE + "/");
  await check("touch draws on a phone-sized, 3x DPR page, and the page does not scroll", mobile, async () => {
    const dims = await mobile.$eval("#canvas", (c) => [c.width, c.clientWidth, c.height, c.clientHeight]);
    assert(dims[0] >= 2.9 * dims[1], `canvas not sharp: ${dims[0]} px for ${dims[1]} CSS px`);
    // One backing-store pixel per device pixel of the content box (the border excluded).
    assert(Math.abs(dims[0] - 3 * dims[1]) <= 3 && Math.abs(dims[2] - 3 * dims[3]) <= 3,
      `canvas ${dims[0]}x${dims[2]} for a ${dims[1]}x${dims[3]} CSS px content box at 3x`);
    const room = await mobile.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
    assert(room > 200, `page not scrollable on a phone (${room} px): the check below would be vacuous`);
    const b = await box(mobile);
    assert(b.y >= 0 && b.y + b.height <= 640, `canvas not on screen: ${JSON.stringify(b)}`);
    // Control: the same upward swipe beside the canvas does scroll the page.
    const cdp = await phone.newCDPSession(mobile);
    const touch = (type, x, y) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x, y, id: 1 }] });
    await touch("touchStart", 6, b.y + b.height);
    for (let k = 1; k <= 20; k++) await touch("touchMove", 6, b.y + b.height - (k * b.height * 0.6) / 20);
    await touch("touchEnd");
    await mobile.waitForFunction(() => window.scrollY > 0, null, { timeout: T })
      .catch(() => { throw new Error("a swipe beside the canvas did not scroll: the check below would be vacuous"); });
    // Let the control swipe's fling end, then go back to the top.
    const scrollY = () => mobile.evaluate(() => window.scrollY);
    for (let i = 0, prev = -1, y; i < 50 && (y = await scrollY()) !== prev; i++, prev = y) await sleep(100);
    await mobile.evaluate(() => window.scrollTo(0, 0));
    await mobile.waitForFunction(() => window.scrollY === 0, null, { timeout: T });
    await sleep(100);
    const before = await scrollY();
    // An upward swipe on the canvas: a 1 drawn bottom to top.
    await drawTouch(mobile, DIGITS[1].map((s) => [...s].reverse()));
    await sleep(300); // any fling would have moved the page by now
    const after = await mobile.evaluate(() => window.scrollY);
    assert(after === before, `page scrolled from ${before} to ${after} while drawing`);
    await expectDigit(mobile, 1);
  });

  await check("a blank upload (422): 'nothing recognisable', the old answer cleared, no error", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[0]);
    await expectDigit(page, 0);
    const blank = await page.evaluate(() => {
      const c = document.createElement("canvas");
      c.width = c.height = 64;
      const x = c.getContext("2d");
      x.fillStyle = "#fff";
      x.fillRect(0, 0, 64, 64);
      return c.toDataURL("image/png").split(",")[1];
    });
    await expectAnnounced(page, 0);
    const statuses = [];
    const onResponse = (r) => { if (r.url().endsWith("/api/predict")) statuses.push(r.status()); };
    page.on("response", onResponse);
    await page.setInputFiles("#file", { name: "blank.png", mimeType: "image/png", buffer: Buffer.from(blank, "base64") });
    await page.waitForFunction(() => document.getElementById("result").dataset.state === "nothing", null, { timeout: T });
    page.off("response", onResponse);
    assert(statuses.includes(422), `the blank upload was not answered 422: ${statuses}`);
    await assertNoAnswer(page, "after a 422");
    assert((await page.textContent("#confidence")).includes("Nothing recognisable"), "no 'nothing recognisable' shown");
    assert(await page.isHidden("#error"), "a 422 is shown as an error");
    assert((await page.textContent("#status")).includes("Nothing recognisable"), "the 422 is not announced");
    await page.keyboard.press("Escape");
    await expectEmpty(page);
  });

  await check("network failure shows an error, then the page recovers", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    await page.route("**/api/predict", (route) => route.abort("connectionrefused"));
    await drawMouse(page, DIGITS[1]);
    await page.waitForSelector("#error:not([hidden])", { timeout: T });
    assert((await page.textContent("#error")).includes("Cannot reach"), "wrong error text");
    await assertNoAnswer(page, "after a network error"); // the 7 is not shown next to the error
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
    await assertNoAnswer(page, "after a 503");
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
