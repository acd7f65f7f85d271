// draw.test.mjs BASE_URL POOL_PID_FILE: the page in Debian's Chromium against the real stack
// (nginx + digitd, started by tests/browser_run.sh). Draws digits with real mouse and touch
// strokes and checks the prediction, the 28x28 preview, throttled live predictions, the
// stroke width, undo (button, Ctrl+Z, Cmd+Z), clear, uploads (a real digit PNG, and PNGs
// made in the page: dark on light, light on dark, white or black ink on transparency), dark
// mode, refitting on resize and pixel-ratio changes, stale answers, the screen-reader
// announcements, the latency shown, and the error message when the server is unreachable,
// hangs or fails. Screenshots of failures go to $ARTIFACTS (tests/web.cmake sets it in the
// build dir; default tests/browser/artifacts/), and their paths are printed.
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DIGITS, box, densify, drawMouse, drawTouch, expectDigit as expectDigitIn, launch, sleep } from "./lib.mjs";

const [BASE, PIDFILE] = process.argv.slice(2);
const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = resolve(process.env.ARTIFACTS || join(HERE, "artifacts"));
const T = 10000; // ms to wait for an answer to appear (not a speed check)

// Screenshots of an earlier run's failures would be mistaken for this run's.
try {
  for (const f of readdirSync(ARTIFACTS)) if (f.endsWith(".png")) rmSync(join(ARTIFACTS, f));
} catch (e) { /* no directory yet */ }

let failures = 0;
// BROWSER_ONLY=regex runs only the checks whose names match (while working on one; ctest
// never sets it).
const ONLY = process.env.BROWSER_ONLY ? new RegExp(process.env.BROWSER_ONLY) : null;
async function check(name, page, fn) {
  if (ONLY && !ONLY.test(name)) { console.log(`skipped: ${name}`); return; }
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

async function expectAnnounced(page, d, timeout = T) {
  await page.waitForFunction((want) => document.getElementById("status").textContent.includes(want),
    `Prediction: ${d}`, { timeout });
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function expectDigit(page, d, timeout = T) {
  await expectDigitIn(page, d, timeout);
}

async function expectEmpty(page) {
  await page.waitForFunction(() => document.getElementById("digit").textContent === "?", null, { timeout: T });
}

// A PNG made in the page on an OffscreenCanvas of w x h: `paper` filled (none: transparent),
// the strokes (0..1 of the shorter side, centred) in `ink`, `width` of that side wide.
async function makePng(page, { w, h, paper, ink, strokes, width = 0.09 }) {
  const b64 = await page.evaluate(async ({ w, h, paper, ink, strokes, width }) => {
    const c = new OffscreenCanvas(w, h);
    const x = c.getContext("2d");
    if (paper) { x.fillStyle = paper; x.fillRect(0, 0, w, h); }
    const side = Math.min(w, h), ox = (w - side) / 2, oy = (h - side) / 2;
    x.strokeStyle = ink;
    x.lineWidth = width * side;
    x.lineCap = x.lineJoin = "round";
    for (const s of strokes) {
      x.beginPath();
      x.moveTo(ox + s[0][0] * side, oy + s[0][1] * side);
      for (const [px, py] of s.slice(1)) x.lineTo(ox + px * side, oy + py * side);
      x.stroke();
    }
    const bytes = new Uint8Array(await (await c.convertToBlob({ type: "image/png" })).arrayBuffer());
    let bin = "";
    for (const v of bytes) bin += String.fromCharCode(v);
    return btoa(bin);
  }, { w, h, paper, ink, strokes, width });
  return Buffer.from(b64, "base64");
}

// The PNG's colour type (IHDR byte 25): 4 and 6 have an alpha channel.
const pngHasAlpha = (buf) => buf[25] === 4 || buf[25] === 6;

// Canvas pixels darker than mid-grey (the ink in light mode).
async function inkPixels(page) {
  return page.evaluate(() => {
    const c = document.getElementById("canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 3 * 128) n++;
    return n;
  });
}

// The canvas backing store and what it should be: one pixel per device pixel of its content
// box (the CSS box less border and padding), measured here independently of the page's code.
async function canvasFit(page) {
  return page.evaluate(() => {
    const c = document.getElementById("canvas");
    const s = getComputedStyle(c), px = (v) => parseFloat(v) || 0;
    const r = c.getBoundingClientRect();
    const cw = r.width - px(s.borderLeftWidth) - px(s.borderRightWidth) - px(s.paddingLeft) - px(s.paddingRight);
    const ch = r.height - px(s.borderTopWidth) - px(s.borderBottomWidth) - px(s.paddingTop) - px(s.paddingBottom);
    const dpr = window.devicePixelRatio;
    return { w: c.width, h: c.height, cssW: cw, dpr, wantW: Math.round(cw * dpr), wantH: Math.round(ch * dpr) };
  });
}
const fits = (f) => Math.abs(f.w - f.wantW) <= 1 && Math.abs(f.h - f.wantH) <= 1;

async function run() {
  const browser = await launch();
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

  await check("undo with the button, Ctrl+Z and Cmd+Z (Meta+z)", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[1]);
    await expectDigit(page, 1);
    await page.click("#undo");
    await expectEmpty(page);
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    await page.keyboard.press("Control+z");
    await expectEmpty(page);
    await drawMouse(page, DIGITS[0]);
    await expectDigit(page, 0);
    await page.keyboard.press("Meta+z"); // Cmd+Z on a Mac
    await expectEmpty(page);
    assert((await inkPixels(page)) === 0, "Meta+z left ink on the canvas");
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

  await check("live predictions while drawing are throttled: more than one, fewer than the moves", page, async () => {
    await page.keyboard.press("Escape");
    // Counted in the page: pointermove events on the canvas, and the start of each
    // prediction: snapshotPng's document.createElement("canvas"), the first thing predict()
    // does after taking the time the throttle counts from (toBlob would come after the
    // strokes are drawn on that canvas, a few ms that vary from one prediction to the next).
    await page.evaluate(() => {
      const c = { moves: 0, starts: [] };
      c.onMove = () => { c.moves++; };
      c.createElement = document.createElement;
      document.createElement = function (tag, ...a) {
        if (String(tag).toLowerCase() === "canvas") c.starts.push(performance.now());
        return c.createElement.call(this, tag, ...a);
      };
      document.getElementById("canvas").addEventListener("pointermove", c.onMove);
      window.__throttle = c;
    });
    const b = await box(page);
    // One long stroke, zig-zagging over the canvas, until at least 3 predictions have started
    // and 80 moves have been made (bounded by T: a page that stops predicting fails here).
    const at = (i) => {
      const u = (i % 60) / 60, tri = u < 0.5 ? 2 * u : 2 - 2 * u;
      return [b.x + (0.2 + 0.6 * tri) * b.width, b.y + (0.25 + 0.5 * ((i % 400) / 400)) * b.height];
    };
    const counts = () => page.evaluate(() => ({ moves: __throttle.moves, starts: __throttle.starts.slice() }));
    const t0 = Date.now();
    let i = 0, c;
    await page.mouse.move(...at(0));
    await page.mouse.down();
    for (;;) {
      await page.mouse.move(...at(++i));
      if (i % 10) continue;
      c = await counts();
      if (c.starts.length >= 3 && c.moves >= 80) break;
      assert(Date.now() - t0 < T, `after ${c.moves} moves in ${T} ms only ${c.starts.length} predictions started`);
    }
    c = await counts(); // still drawing: every prediction so far is a live one
    await page.mouse.up();
    const interval = await page.evaluate(() => LIVE_INTERVAL_MS);
    await page.evaluate(() => {
      const c = __throttle;
      document.createElement = c.createElement;
      document.getElementById("canvas").removeEventListener("pointermove", c.onMove);
    });
    assert(interval >= 50, `LIVE_INTERVAL_MS is ${interval}: that is no throttle`);
    assert(c.starts.length > 1, `${c.starts.length} live prediction(s) in a long stroke`);
    assert(c.starts.length < c.moves, `${c.starts.length} predictions for ${c.moves} pointermove events: not throttled`);
    const gaps = c.starts.slice(1).map((t, k) => t - c.starts[k]);
    assert(gaps.every((g) => g >= interval - 2), `live predictions closer than ${interval} ms: ${gaps.map(Math.round)}`);
    console.log(`  ${c.starts.length} live predictions for ${c.moves} pointermove events`);
    await page.keyboard.press("Escape");
  });

  await check("the stroke width control changes the drawing", page, async () => {
    await page.keyboard.press("Escape");
    const line = [[[0.2, 0.5], [0.8, 0.5]]];
    await page.focus("#width");
    await page.keyboard.press("Home"); // the keyboard sets the range to its minimum
    const min = await page.$eval("#width", (e) => e.value);
    await drawMouse(page, line);
    const thin = await inkPixels(page);
    await page.focus("#width");
    await page.keyboard.press("End");
    const max = await page.$eval("#width", (e) => e.value);
    await drawMouse(page, [[[0.2, 0.3], [0.2, 0.31]]]); // a redraw: the first line keeps its width
    const kept = await inkPixels(page);
    await page.keyboard.press("Escape");
    await drawMouse(page, line);
    const thick = await inkPixels(page);
    await page.$eval("#width", (e) => { e.value = e.defaultValue; });
    await page.keyboard.press("Escape");
    assert(min === "8" && max === "40", `range ${min}..${max}`);
    assert(thin > 0, "a thin line left no ink");
    assert(thick > 3 * thin, `width ${max}: ${thick} ink pixels, width ${min}: ${thin}`);
    assert(kept > thin && kept < thin + (thick - thin) / 2, `the thin line changed width: ${thin} -> ${kept} ink pixels`);
  });

  await check("uploads: a real digit PNG, dark or light ink, opaque or transparent, are read right", page, async () => {
    // Every object URL the page makes for a file is revoked once the image loaded or failed.
    await page.evaluate(() => {
      const u = { made: [], revoked: [] }, make = URL.createObjectURL, revoke = URL.revokeObjectURL;
      URL.createObjectURL = (o) => { const url = make.call(URL, o); u.made.push(url); return url; };
      URL.revokeObjectURL = (url) => { u.revoked.push(url); return revoke.call(URL, url); };
      window.__urls = u;
    });
    const statuses = [];
    const onResponse = (r) => { if (r.url().endsWith("/api/predict")) statuses.push(r.status()); };
    page.on("response", onResponse);
    const uploads = [
      // tests/server_digit.png: a 280x280 grey PNG of a 1 (a dark upright bar on white)
      { name: "server_digit.png", d: 1, buffer: readFileSync(join(HERE, "..", "server_digit.png")) },
      { name: "dark-on-light-7.png", d: 7, buffer: await makePng(page, { w: 200, h: 200, paper: "#fff", ink: "#000", strokes: DIGITS[7] }) },
      // white ink on a transparent sheet: flattened onto white it would be blank (a 422)
      { name: "white-on-transparent-0.png", d: 0, alpha: true, buffer: await makePng(page, { w: 200, h: 200, ink: "#fff", strokes: DIGITS[0] }) },
      { name: "black-on-transparent-7.png", d: 7, alpha: true, buffer: await makePng(page, { w: 200, h: 200, ink: "#000", strokes: DIGITS[7] }) },
      // light on dark and not square: the margins must be the image's own dark paper
      { name: "light-on-dark-wide-0.png", d: 0, buffer: await makePng(page, { w: 320, h: 160, paper: "#000", ink: "#fff", strokes: DIGITS[0] }) },
    ];
    for (const u of uploads) {
      if (u.alpha) assert(pngHasAlpha(u.buffer), `${u.name}: the test image has no alpha channel`);
      await page.keyboard.press("Escape");
      await expectEmpty(page);
      statuses.length = 0;
      await page.setInputFiles("#file", { name: u.name, mimeType: "image/png", buffer: u.buffer });
      await expectDigit(page, u.d).catch(async () => {
        throw new Error(`${u.name}: shows '${await page.textContent("#digit")}' (${await page.textContent("#confidence")}), ` +
                        `not ${u.d}; statuses ${statuses}`);
      });
      await expectAnnounced(page, u.d);
      assert(!statuses.includes(422), `${u.name}: answered 422`);
      if (u.name.startsWith("white-on-transparent")) { // shown as sent: white ink on black
        const mid = await page.evaluate(() => {
          const c = document.getElementById("canvas");
          return [...c.getContext("2d").getImageData(c.width >> 1, c.height >> 1, 1, 1).data];
        });
        assert(mid[0] + mid[1] + mid[2] < 3 * 64, `${u.name}: the canvas inside the 0 is ${mid}, not dark`);
      }
    }
    // Not an image: the error, and its object URL revoked too.
    await page.setInputFiles("#file", { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not a PNG at all") });
    await page.waitForSelector("#error:not([hidden])", { timeout: T });
    assert((await page.textContent("#error")).includes("notes.png is not an image"), "wrong error for a non-image");
    page.off("response", onResponse);
    const urls = await page.evaluate(() => __urls);
    assert(urls.made.length === uploads.length + 1, `${urls.made.length} object URLs for ${uploads.length + 1} uploads`);
    const left = urls.made.filter((url) => !urls.revoked.includes(url));
    assert(left.length === 0, `object URLs never revoked: ${left}`);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
    assert(await page.isHidden("#error"), "the error is still shown after Escape");
  });

  await check("the round trip shown is the network's, without the PNG encoding", page, async () => {
    await page.keyboard.press("Escape");
    const ENCODE_MS = 3000; // every PNG encode is held this long
    await page.evaluate((delay) => {
      const orig = HTMLCanvasElement.prototype.toBlob;
      window.__toBlob = orig;
      HTMLCanvasElement.prototype.toBlob = function (...a) { setTimeout(() => orig.apply(this, a), delay); };
    }, ENCODE_MS);
    try {
      await drawMouse(page, DIGITS[1]);
      await expectAnnounced(page, 1, ENCODE_MS + T);
    } finally {
      await page.evaluate(() => { HTMLCanvasElement.prototype.toBlob = window.__toBlob; });
    }
    const text = await page.textContent("#latency");
    const m = /round trip (\d+) ms/.exec(text);
    assert(m, `latency text '${text}'`);
    assert(Number(m[1]) < ENCODE_MS, `round trip ${m[1]} ms includes the ${ENCODE_MS} ms encode`);
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

  // A fresh desktop page for layout changes that are not window resizes.
  const lay = await browser.newContext({ viewport: { width: 1100, height: 800 }, colorScheme: "light" });
  const layPage = await lay.newPage();
  watchErrors(layPage, "resize page");
  await layPage.goto(BASE + "/");
  await check("the canvas refits when its column resizes and when the pixel ratio changes", layPage, async () => {
    const waitFit = async (what, extra = "true") => {
      await layPage.waitForFunction(extra, null, { timeout: T }).catch(() => {}); // then check below
      for (let k = 0; k < 100 && !fits(await canvasFit(layPage)); k++) await sleep(100);
      const f = await canvasFit(layPage);
      assert(fits(f), `${what}: canvas ${f.w}x${f.h} for ${f.wantW}x${f.wantH} device px (${f.cssW} CSS px at ${f.dpr}x)`);
      return f;
    };
    const first = await waitFit("at load");
    // The drawing column narrows, the window does not resize.
    await layPage.evaluate(() => { document.querySelector(".pad").style.width = "260px"; });
    const narrow = await waitFit("column narrowed to 260 px");
    assert(narrow.cssW < first.cssW - 50, `the column did not narrow: ${first.cssW} -> ${narrow.cssW} CSS px`);
    await drawMouse(layPage, DIGITS[7]); // pointers map right on the new size
    await expectDigit(layPage, 7);
    await layPage.keyboard.press("Escape");
    // The device pixel ratio changes (zoom, another screen), the canvas's CSS size does not.
    // Chromium's emulation re-evaluates media queries only along with a viewport change, so
    // the viewport also grows by 1 px in height, which resizes neither the canvas nor its
    // column: no ResizeObserver fires (watched here, on what the page observes), so the refit
    // must come from the page's devicePixelRatio listener.
    await layPage.evaluate(() => {
      window.__resized = 0;
      const ro = new ResizeObserver(() => { window.__resized++; });
      for (const e of [document.getElementById("canvas"), document.querySelector(".pad")]) ro.observe(e);
    });
    // Resize notifications are delivered before the next paint: two frames on, none is pending.
    const settle = () => layPage.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => {
      window.__resized = 0;
      r();
    }))));
    const resized = () => layPage.evaluate(() => window.__resized);
    const cdp = await lay.newCDPSession(layPage);
    const dpr = (deviceScaleFactor, height) => cdp.send("Emulation.setDeviceMetricsOverride",
      { width: 1100, height, deviceScaleFactor, mobile: false });
    await settle();
    await dpr(2, 801);
    const sharp = await waitFit("pixel ratio 1 -> 2", "window.devicePixelRatio === 2");
    assert(sharp.dpr === 2 && Math.abs(sharp.cssW - narrow.cssW) < 0.5, `not a pure pixel-ratio change: ${JSON.stringify(sharp)}`);
    let n = await resized();
    assert(n === 0, `the canvas or its column was resized ${n} times: not a pixel-ratio-only change`);
    await drawMouse(layPage, DIGITS[0]);
    await expectDigit(layPage, 0);
    await layPage.keyboard.press("Escape");
    await expectEmpty(layPage);
    await settle();
    await dpr(1, 800); // and back: the listener follows every change, not only the first
    await waitFit("pixel ratio 2 -> 1", "window.devicePixelRatio === 1");
    n = await resized();
    assert(n === 0, `the canvas or its column was resized ${n} times: not a pixel-ratio-only change`);
  });
  await lay.close();

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

  await check("a server that never answers: the error within the fetch timeout, then the page works on", page, async () => {
    await page.keyboard.press("Escape");
    const timeoutMs = await page.evaluate(() => FETCH_TIMEOUT_MS);
    const hung = [];
    await page.route("**/api/predict", (route) => { hung.push(route); }); // never answered
    try {
      const t0 = Date.now();
      await drawMouse(page, DIGITS[7]);
      await page.waitForSelector("#error:not([hidden])", { timeout: timeoutMs + T });
      const took = Date.now() - t0;
      const text = await page.textContent("#error");
      assert(text.includes(`did not answer within ${timeoutMs / 1000} s`), `error text '${text}'`);
      assert(took >= timeoutMs - 50, `error after ${took} ms, before the ${timeoutMs} ms timeout`);
      assert(hung.length >= 1, "no request reached the hung API");
      await assertNoAnswer(page, "after a timeout");
      // Every hung request is abandoned, so the in-flight gate lets live predictions out again:
      // a stroke still being drawn sends one.
      await page.waitForFunction(() => inFlight === 0, null, { timeout: timeoutMs + T });
      const before = hung.length;
      const b = await box(page);
      const pts = densify(DIGITS[1][0]);
      await page.mouse.move(b.x + pts[0][0] * b.width, b.y + pts[0][1] * b.height);
      await page.mouse.down();
      for (const [x, y] of pts.slice(1)) await page.mouse.move(b.x + x * b.width, b.y + y * b.height);
      for (let k = 0; k < 100 && hung.length === before; k++) await sleep(100);
      assert(hung.length > before, "no live prediction while drawing after the timeout: the gate stayed shut");
      await page.mouse.up();
      assert((await inkPixels(page)) > 0, "drawing did not work while the API hung");
    } finally {
      await page.unroute("**/api/predict");
      for (const r of hung) await r.abort().catch(() => {});
    }
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    await expectAnnounced(page, 7);
    assert(await page.isHidden("#error"), "error still shown after the API answered again");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => inFlight === 0, null, { timeout: timeoutMs + T });
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
