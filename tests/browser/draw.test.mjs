// draw.test.mjs BASE_URL POOL_PID_FILE PHOTO_DIR: the page in Debian's Chromium against the
// real stack (nginx + digitd, started by tests/browser_run.sh, which makes PHOTO_DIR's
// photos). Draws digits with real mouse and touch strokes and checks the prediction, the
// 28x28 preview, throttled live predictions, the stroke width, undo (button, Ctrl+Z, Cmd+Z),
// clear, uploads (a real digit PNG, and PNGs made in the page: dark on light, light on dark,
// white or black ink on transparency), photos (sent as the file's own bytes, a 12 MP one
// scaled in the browser, EXIF orientation on screen, other formats as JPEG, no digit found:
// 422 and its hint, strokes over a photo; on phones the camera input), dark mode, refitting
// on resize and pixel-ratio changes, stale answers, the screen-reader announcements, the
// latency shown, and the error message when the server is unreachable, hangs or fails.
// Screenshots of failures go to $ARTIFACTS (tests/web.cmake sets it in the build dir;
// default tests/browser/artifacts/), and their paths are printed.
import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DIGITS, box, circle, densify, drawMouse, drawTouch, expectDigit as expectDigitIn, launch, sleep } from "./lib.mjs";

const [BASE, PIDFILE, PHOTOS] = process.argv.slice(2); // PHOTOS: photo_set's JPEGs (browser_run.sh)
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
    seen: !document.getElementById("seen-figure").hidden,
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

// Runs fn(sent), sent collecting the page's /api/predict requests meanwhile.
async function withPredictRequests(page, fn) {
  const sent = [];
  const watch = (req) => { if (req.url().includes("/api/predict")) sent.push(req); };
  page.on("request", watch);
  try {
    await fn(sent);
  } finally {
    page.off("request", watch);
  }
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

// Runs make(arg) in the page, which resolves with a Blob (an OffscreenCanvas's
// convertToBlob), and resolves with the Blob's bytes.
async function blobBytes(page, make, arg) {
  const blob = await page.evaluateHandle(make, arg);
  const b64 = await page.evaluate(async (b) => {
    let bin = "";
    for (const v of new Uint8Array(await b.arrayBuffer())) bin += String.fromCharCode(v);
    return btoa(bin);
  }, blob);
  await blob.dispose();
  return Buffer.from(b64, "base64");
}

// An image (PNG unless `type` says otherwise) made in the page on an OffscreenCanvas of
// w x h: `paper` filled (none: transparent), the strokes (0..1 of the shorter side, centred)
// in `ink`, `width` of that side wide.
function makeImage(page, { w, h, paper, ink, strokes, width = 0.09, type = "image/png" }) {
  return blobBytes(page, ({ w, h, paper, ink, strokes, width, type }) => {
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
    return c.convertToBlob({ type });
  }, { w, h, paper, ink, strokes, width, type });
}

// The PNG's colour type (IHDR byte 25): 4 and 6 have an alpha channel.
const pngHasAlpha = (buf) => buf[25] === 4 || buf[25] === 6;

// ---- JPEG bytes: what the photo checks make, read and send --------------------------

const MAX_BODY = 2 * 1024 * 1024; // the stack's body limit (nginx client_max_body_size, digitd --max-body)

// The frame's stored width and height, from its SOF segment.
function jpegSize(buf) {
  for (let i = 2; i + 9 < buf.length && buf[i] === 0xff;) {
    const m = buf[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    i += 2 + buf.readUInt16BE(i + 2);
  }
  return [0, 0];
}

// The EXIF orientation (1..8) of IFD0 in the first APP1 "Exif" segment, 1 without one.
function exifOrientation(buf) {
  for (let i = 2; i + 4 < buf.length && buf[i] === 0xff && buf[i + 1] !== 0xda;) {
    const len = buf.readUInt16BE(i + 2);
    if (buf[i + 1] === 0xe1 && buf.toString("latin1", i + 4, i + 10) === "Exif\0\0") {
      const t = i + 10, le = buf[t] === 0x49;
      const u16 = (o) => (le ? buf.readUInt16LE(t + o) : buf.readUInt16BE(t + o));
      const ifd = le ? buf.readUInt32LE(t + 4) : buf.readUInt32BE(t + 4);
      for (let k = 0, n = u16(ifd); k < n; k++) if (u16(ifd + 2 + 12 * k) === 0x0112) return u16(ifd + 2 + 12 * k + 8);
      return 1;
    }
    i += 2 + len;
  }
  return 1;
}

// The JPEG with an APP1 "Exif" segment right after SOI, as a phone writes it: a big-endian
// TIFF header and IFD0 holding only the Orientation tag (0x0112, a SHORT).
function addExifOrientation(buf, orientation) {
  const app1 = Buffer.from([0xff, 0xe1, 0x00, 34, ...Buffer.from("Exif\0\0", "latin1"),
    0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, /* IFD0: */ 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([buf.subarray(0, 2), app1, buf.subarray(2)]);
}

// The JPEG grown to at least `size` bytes with comment (COM) segments after SOI: the same
// picture, a file over the body limit.
function padJpeg(buf, size) {
  const segs = [];
  for (let need = size - buf.length; need > 0; need -= 65537) {
    const seg = Buffer.alloc(65537, 0x20);
    seg.writeUInt16BE(0xfffe, 0);
    seg.writeUInt16BE(65535, 2);
    segs.push(seg);
  }
  return Buffer.concat([buf.subarray(0, 2), ...segs, buf.subarray(2)]);
}

// A photo-like JPEG of a 7 in dark-blue pen on off-white paper, 240x360 upright, with a pale
// yellow 60 px square marker at its top left (15..75 px), stored turned a quarter to the
// left (360x240), as a phone held upright stores it with EXIF orientation 6.
function rotatedPhoto(page) {
  return blobBytes(page, (seven) => {
    const c = new OffscreenCanvas(360, 240), x = c.getContext("2d");
    x.setTransform(0, -1, 1, 0, 0, 240); // upright (u, v) -> stored (v, 240 - u)
    x.fillStyle = "#f2efe8";
    x.fillRect(0, 0, 240, 360);
    x.fillStyle = "#ffd640";
    x.fillRect(15, 15, 60, 60);
    x.strokeStyle = "#1a1f3a";
    x.lineWidth = 20;
    x.lineCap = x.lineJoin = "round";
    x.beginPath();
    seven.forEach(([u, v], i) => (i ? x.lineTo : x.moveTo).call(x, u * 240, 60 + v * 240));
    x.stroke();
    return c.convertToBlob({ type: "image/jpeg", quality: 0.92 });
  }, DIGITS[7][0]);
}

// Where rotatedPhoto's yellow marker is on the canvas: the centre and size of its pixels, in
// backing-store pixels, and the canvas's side.
async function marker(page) {
  return page.evaluate(() => {
    const c = document.getElementById("canvas"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0, sx = 0, sy = 0, x0 = Infinity, x1 = -1, y0 = Infinity, y1 = -1;
    for (let y = 0, i = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++, i += 4) {
        if (!(d[i] > 200 && d[i + 1] > 170 && d[i + 2] < d[i] - 90)) continue;
        n++; sx += x; sy += y;
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    return { x: sx / n, y: sy / n, w: x1 - x0 + 1, h: y1 - y0 + 1, side: c.width };
  });
}

// A phone photo of a blank sheet filling the frame: the light falling off towards a corner,
// sensor noise; 1600x1200.
function blankPhoto(page) {
  return blobBytes(page, () => {
    const W = 1600, H = 1200, c = new OffscreenCanvas(W, H), x = c.getContext("2d");
    const g = x.createLinearGradient(0, 0, W, H);
    g.addColorStop(0, "#f3f0e9");
    g.addColorStop(1, "#b9b3a6");
    x.fillStyle = g;
    x.fillRect(0, 0, W, H);
    const img = x.getImageData(0, 0, W, H);
    let s = 1;
    for (let i = 0; i < img.data.length; i += 4) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = ((s >>> 16) % 9) - 4;
      for (let k = 0; k < 3; k++) img.data[i + k] += n;
    }
    x.putImageData(img, 0, 0);
    return c.convertToBlob({ type: "image/jpeg", quality: 0.85 });
  });
}

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
  const loadFailures = [];
  page.on("response", (r) => { if (r.status() >= 400) loadFailures.push(`${r.status()} ${r.url()}`); });
  await page.goto(BASE + "/");
  await check("the page loads without a failed request (its icon included)", page, async () => {
    const icon = await page.evaluate(async () => {
      const link = document.querySelector("link[rel=icon]");
      return link ? (await fetch(link.href)).status : 0;
    });
    assert(icon === 200, `the icon: ${icon}`);
    await page.waitForTimeout(300);
    assert(loadFailures.length === 0, `failed requests: ${loadFailures}`);
  });

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
    // Counted in the page: pointermove events on the canvas, and each prediction, at its
    // fetch of /api/predict, which records the time the throttle counts from (the page's
    // lastSend, taken at predict()'s start: on a loaded machine the few statements between
    // the two can take some ms).
    await page.evaluate(() => {
      const c = { moves: 0, starts: [] };
      c.onMove = () => { c.moves++; };
      c.fetch = window.fetch;
      window.fetch = function (url, ...a) {
        if (String(url).includes("/api/predict")) c.starts.push(lastSend);
        return c.fetch.call(this, url, ...a);
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
      window.fetch = c.fetch;
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
    // Every object URL the page makes for a file (createImageBitmap cannot decode it: the
    // file that is not an image) is revoked once the image loaded or failed.
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
      { name: "dark-on-light-7.png", d: 7, buffer: await makeImage(page, { w: 200, h: 200, paper: "#fff", ink: "#000", strokes: DIGITS[7] }) },
      // white ink on a transparent sheet: flattened onto white it would be blank (a 422)
      { name: "white-on-transparent-0.png", d: 0, alpha: true, buffer: await makeImage(page, { w: 200, h: 200, ink: "#fff", strokes: DIGITS[0] }) },
      { name: "black-on-transparent-7.png", d: 7, alpha: true, buffer: await makeImage(page, { w: 200, h: 200, ink: "#000", strokes: DIGITS[7] }) },
      // light on dark and not square: the margins must be the image's own dark paper
      { name: "light-on-dark-wide-0.png", d: 0, buffer: await makeImage(page, { w: 320, h: 160, paper: "#000", ink: "#fff", strokes: DIGITS[0] }) },
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
    assert(urls.made.length >= 1, "no object URL for the file createImageBitmap cannot read");
    const left = urls.made.filter((url) => !urls.revoked.includes(url));
    assert(left.length === 0, `object URLs never revoked: ${left}`);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
    assert(await page.isHidden("#error"), "the error is still shown after Escape");
  });

  await check("a drawing is sent as its strokes, a drawing over an upload as a PNG", page, async () => {
    await page.keyboard.press("Escape");
    await withPredictRequests(page, async (sent) => {
      await drawMouse(page, [[[0.5, 0.2], [0.5, 0.8]]]);
      await page.waitForFunction(() => document.getElementById("result").dataset.final === "true" &&
        document.getElementById("result").dataset.state === "result", null, { timeout: T });
      assert(sent.length > 0, "no request sent");
      const last = sent[sent.length - 1];
      assert(last.headers()["content-type"] === "application/json", `drawing sent as ${last.headers()["content-type"]}`);
      const body = JSON.parse(last.postData());
      assert(Array.isArray(body.strokes) && body.strokes.length === 1 && body.strokes[0].length >= 2,
        `strokes body ${last.postData().slice(0, 120)}`);
      assert(body.side === 280 && body.width > 0, `side ${body.side}, width ${body.width}`);
      assert(body.strokes[0].every((p) => p.length === 2 && p.every((v) => v >= 0 && v <= 280)),
        "a point outside the 280 px drawing");
      await page.keyboard.press("Escape");
      sent.length = 0;
      await page.setInputFiles("#file", { name: "digit.png", mimeType: "image/png",
                                          buffer: readFileSync(join(HERE, "..", "server_digit.png")) });
      await drawMouse(page, [[[0.2, 0.9], [0.4, 0.9]]]);
      await page.waitForFunction(() => document.getElementById("result").dataset.final === "true", null, { timeout: T });
      const types = sent.map((r) => r.headers()["content-type"]);
      assert(types.length > 0 && types.every((t) => t === "image/png"), `upload + stroke sent as ${types}`);
    });
    await page.keyboard.press("Escape");
  });

  await check("a stroke of many pointer moves is sent through a few of its points, within a quarter pixel of them all", page, async () => {
    await page.keyboard.press("Escape");
    await withPredictRequests(page, async (sent) => {
      // a 0 drawn slowly with a fast mouse: a move every 0.4 % of the canvas's side
      const zero = circle(0.5, 0.5, 0.2, 0.3), step = 0.004;
      await drawMouse(page, [zero], step);
      await expectDigit(page, 0);
      await page.waitForFunction(() => document.getElementById("result").dataset.final === "true", null, { timeout: T });
      const body = JSON.parse(sent[sent.length - 1].postData());
      const path = body.strokes[0];
      const drawn = await page.evaluate(() => items.map((s) => s.points)); // canvas px, as recorded
      assert(body.strokes.length === 1 && drawn.length === 1 && path.length >= 8 && path.length * 4 < drawn[0].length,
        `${densify(zero, step).length} moves, ${drawn[0].length} points recorded, sent as ${path.length}`);
      // every point recorded lies within the tolerance (0.25 px) of the path sent, and the
      // rounding of the points sent to 0.1 px
      const near = ([x, y]) => path.slice(1).some(([bx, by], i) => {
        const [ax, ay] = path[i], dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
        const t = l2 > 0 ? Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / l2)) : 0;
        return Math.hypot(x - ax - t * dx, y - ay - t * dy) <= 0.25 + 0.08;
      });
      const far = drawn[0].filter((m) => !near(m));
      assert(far.length === 0, `${far.length} of ${drawn[0].length} points further than 0.33 px from the path sent, e.g. ${far[0]}`);
      console.log(`  ${drawn[0].length} points recorded, ${path.length} sent`);
    });
    await page.keyboard.press("Escape");
  });

  await check("the round trip shown is the network's, without the PNG encoding (a drawing over an upload)", page, async () => {
    await page.keyboard.press("Escape");
    const ENCODE_MS = 600; // every PNG encode (synchronous toDataURL) is held this long
    await page.evaluate((delay) => {
      const orig = HTMLCanvasElement.prototype.toDataURL;
      window.__toDataURL = orig;
      HTMLCanvasElement.prototype.toDataURL = function (...a) {
        const until = performance.now() + delay;
        while (performance.now() < until) { /* a slow encoder */ }
        return orig.apply(this, a);
      };
    }, ENCODE_MS);
    try {
      // strokes over an upload go as the canvas's PNG (a drawing alone goes as strokes)
      await page.setInputFiles("#file", { name: "digit.png", mimeType: "image/png",
                                          buffer: readFileSync(join(HERE, "..", "server_digit.png")) });
      await drawMouse(page, [[[0.2, 0.9], [0.4, 0.9]]]);
      await page.waitForFunction(() => document.getElementById("result").dataset.final === "true" &&
        document.getElementById("result").dataset.state === "result", null, { timeout: T });
    } finally {
      await page.evaluate(() => { HTMLCanvasElement.prototype.toDataURL = window.__toDataURL; });
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

  await check("the theme button cycles system, dark, light, system; remembered across reloads", page, async () => {
    const look = () => page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor,
      label: document.getElementById("theme").textContent.trim(), attr: document.documentElement.dataset.theme || null,
      stored: localStorage.getItem("digitd-theme") }));
    const light = await look(); // this context's system theme is light
    assert(light.label === "Theme: system" && light.attr === null && light.stored === null, `at start: ${JSON.stringify(light)}`);
    await page.click("#theme");
    const dark = await look();
    assert(dark.label === "Theme: dark" && dark.attr === "dark" && dark.stored === "dark", `after one click: ${JSON.stringify(dark)}`);
    assert(dark.bg !== light.bg, "background did not change");
    await page.reload();
    assert((await look()).attr === "dark", "dark theme not remembered");
    await drawMouse(page, DIGITS[1]); // the drawing works the same in dark mode
    await expectDigit(page, 1);
    await page.click("#theme");
    const forcedLight = await look();
    assert(forcedLight.label === "Theme: light" && forcedLight.stored === "light" && forcedLight.bg === light.bg,
      `after two clicks: ${JSON.stringify(forcedLight)}`);
    await page.click("#theme");
    const back = await look();
    assert(back.label === "Theme: system" && back.attr === null && back.stored === null, `after three clicks: ${JSON.stringify(back)}`);
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
               label: document.getElementById("theme").textContent.trim(),
               stored: localStorage.getItem("digitd-theme"), attr: document.documentElement.dataset.theme };
    });
    let s = await look();
    assert(s.stored === null && s.attr === undefined, `a stored or forced theme: ${JSON.stringify(s)}`);
    assert(s.bg === "rgb(17, 20, 24)", `background ${s.bg}, not the dark one`);
    assert(s.paper < 3 * 64, `canvas paper not dark: ${s.paper}`);
    assert(s.label === "Theme: system", `theme button '${s.label}' under no stored choice`);
    await sysPage.emulateMedia({ colorScheme: "light" }); // the system switches: the page follows
    await sysPage.waitForFunction(() => getComputedStyle(document.body).backgroundColor !== "rgb(17, 20, 24)", null, { timeout: T });
    await sleep(100); // the canvas redraw follows the media query change
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

  await check("a blank upload (422): 'no digit found' and the hint, the old answer cleared, no error", page, async () => {
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
    assert((await page.textContent("#confidence")).includes("No digit found"), "no 'no digit found' shown");
    assert((await page.textContent("#advice")).includes("dark pen on light paper"), "no hint shown");
    assert(await page.isHidden("#error"), "a 422 is shown as an error");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("No digit found"), null, { timeout: T })
      .catch(() => { throw new Error("the 422 is not announced"); });
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

  // ---- states: doubt, working, retry, settled announcements --------------------------

  // Answers rewritten on their way back (the server's real answer, with a verdict added).
  const withVerdict = (verdict) => async (route) => {
    try {
      const res = await route.fetch();
      const body = await res.json();
      body.verdict = verdict;
      await route.fulfill({ response: res, json: body });
    } catch (e) { /* the route was removed meanwhile: the request is handled already */ }
  };
  await check("doubt: 'unsure' shows the two candidates, 'not_a_digit' says so, no verdict is a digit", page, async () => {
    await page.keyboard.press("Escape");
    try {
      await page.route("**/api/predict*", withVerdict("unsure"));
      await drawMouse(page, DIGITS[7]);
      await page.waitForFunction(() => document.getElementById("result").dataset.state === "unsure" &&
        document.getElementById("result").dataset.final === "true", null, { timeout: T });
      const d = await page.textContent("#digit");
      assert(/^7 or \d\?$/.test(d), `unsure shows '${d}', not '7 or N?'`);
      assert((await page.textContent("#strip-digit")) === d, "the strip does not show the doubt");
      assert((await page.$$eval("#bars li.top", (l) => l.length)) === 0, "a doubtful answer highlights a bar");
      await page.waitForFunction(() => document.getElementById("status").textContent.includes(" or "), null, { timeout: T });
      assert(!(await page.textContent("#status")).includes("Prediction"), "an unsure answer announced as a prediction");
      await page.unroute("**/api/predict*");
      await page.route("**/api/predict*", withVerdict("not_a_digit"));
      await page.keyboard.press("Escape");
      await drawMouse(page, DIGITS[0]);
      await page.waitForFunction(() => document.getElementById("result").dataset.state === "notdigit", null, { timeout: T });
      assert((await page.textContent("#confidence")) === "That does not look like a digit", "no 'not a digit' text");
      assert(!(await page.isVisible("#digit")), "a digit is shown for something that is not one");
      await page.waitForFunction(() => document.getElementById("status").textContent.includes("does not look like a digit"), null, { timeout: T });
    } finally {
      await page.unroute("**/api/predict*");
    }
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[0]); // the real server (no verdict field yet, or "digit")
    await expectDigit(page, 0);
    await page.keyboard.press("Escape");
  });

  await check("a slow answer shows 'Working…' after a moment, and the answer clears it", page, async () => {
    await page.keyboard.press("Escape");
    const pendingMs = await page.evaluate(() => PENDING_MS);
    // (a request still held when the route is removed may be handled already: ignored)
    await page.route("**/api/predict*", async (route) => { await sleep(pendingMs + 1200); await route.continue().catch(() => {}); });
    try {
      await drawMouse(page, DIGITS[1]);
      await page.waitForSelector(".result .pending", { state: "visible", timeout: T });
      assert(await page.isVisible(".strip .spinner") || !(await page.isVisible(".strip")), "the strip shows no spinner");
      await expectDigit(page, 1);
      await page.waitForSelector(".result .pending", { state: "hidden", timeout: T });
    } finally {
      await page.unroute("**/api/predict*");
    }
    await page.keyboard.press("Escape");
  });

  await check("an unreachable server is retried with backoff; the error clears by itself when it is back", page, async () => {
    await page.keyboard.press("Escape");
    let down = true, refused = 0;
    await page.route("**/api/predict*", (route) => {
      if (down) { refused++; return route.abort("connectionrefused"); }
      return route.continue();
    });
    try {
      await drawMouse(page, DIGITS[7]);
      await page.waitForSelector("#error:not([hidden])", { timeout: T });
      // A live request that failed while the pen was still down shows the error without a
      // retry (the stroke's next request is one); the final request's failure says it retries.
      await page.waitForFunction(() => document.getElementById("error").textContent.includes("Retrying in"),
                                 null, { timeout: T }).catch(() => {});
      assert((await page.textContent("#error")).includes("Retrying in"), "the error does not say it retries");
      const seen = refused;
      for (let k = 0; k < 100 && refused < seen + 2; k++) await sleep(100); // two retries, unasked
      assert(refused >= seen + 2, `${refused - seen} retries after the error`);
      down = false;
      await expectDigit(page, 7); // no new stroke: a retry found the server
      assert(await page.isHidden("#error"), "the error stays after recovery");
    } finally {
      await page.unroute("**/api/predict*");
    }
    await page.keyboard.press("Escape");
  });

  await check("the live region announces a settled answer once, not the first stroke of a 4", page, async () => {
    await page.keyboard.press("Escape");
    await page.evaluate(() => {
      window.__said = [];
      new MutationObserver(() => { const t = document.getElementById("status").textContent; if (t) __said.push(t); })
        .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
    });
    await drawMouse(page, [[[0.35, 0.15], [0.25, 0.6], [0.75, 0.6]]]);
    await page.waitForFunction(() => document.getElementById("result").dataset.final === "true", null, { timeout: T });
    await sleep(200); // a short pause between the strokes of one digit
    await drawMouse(page, [[[0.6, 0.3], [0.6, 0.9]]]);
    await expectAnnounced(page, 4);
    await sleep(300);
    const said = await page.evaluate(() => __said);
    assert(said.length === 1 && said[0].includes("Prediction: 4"), `announced: ${JSON.stringify(said)}`);
    const label = await page.getAttribute("#canvas", "aria-label");
    assert(label.includes("2 strokes") && label.includes("Prediction: 4"), `canvas label '${label}'`);
    await page.keyboard.press("Escape");
  });

  // ---- undo, redo, keyboard, samples -------------------------------------------------

  await check("Clear is undoable; redo with the button, Ctrl+Shift+Z and Ctrl+Y", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    const ink = await inkPixels(page);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
    await page.keyboard.press("Control+z"); // the clear is undone
    await expectDigit(page, 7);
    assert((await inkPixels(page)) === ink, "undoing the clear did not bring the drawing back");
    await page.keyboard.press("Control+z"); // the stroke is undone
    await expectEmpty(page);
    await page.click("#redo");
    await expectDigit(page, 7);
    await page.keyboard.press("Control+z");
    await expectEmpty(page);
    await page.keyboard.press("Control+Shift+z");
    await expectDigit(page, 7);
    await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+y");
    await expectDigit(page, 7);
    await page.keyboard.press("Escape"); // a new stroke drops what could be redone
    await page.keyboard.press("Control+z");
    await drawMouse(page, DIGITS[1]);
    await page.keyboard.press("Control+y");
    await sleep(200);
    assert((await page.textContent("#digit")) !== "?", "redo after a new stroke cleared the drawing");
    await page.keyboard.press("Escape");
  });

  await check("keyboard only: Tab to a sample and Enter draws it; Undo takes its strokes back; arrows and Space draw a 1", page, async () => {
    await page.keyboard.press("Escape");
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press("Tab"); // the first stop is the theme button, then the canvas, ...
    let guard = 0;
    while (!(await page.evaluate(() => document.activeElement.getAttribute("aria-label") === "Draw a sample 4")) && guard++ < 40)
      await page.keyboard.press("Tab");
    assert(guard < 40, "the sample buttons cannot be reached with Tab");
    await page.keyboard.press("Enter");
    await expectDigit(page, 4);
    await page.keyboard.press("Control+z"); // a 4 is two strokes: one Undo leaves one
    await page.waitForFunction(() => document.getElementById("canvas").getAttribute("aria-label").includes("1 stroke"), null, { timeout: T });
    await page.keyboard.press("Control+z");
    await expectEmpty(page);
    // The canvas takes focus and draws with the keys.
    await page.focus("#canvas");
    for (let i = 0; i < 12; i++) await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Space");
    for (let i = 0; i < 6; i++) await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Space");
    await expectDigit(page, 1);
    assert((await inkPixels(page)) > 0, "no ink from the keyboard");
    await page.keyboard.press("Escape");
  });

  // ---- uploads: truncated files, drop, paste -----------------------------------------

  await check("a truncated JPEG or PNG is refused with a message; drop and paste of an image are read", page, async () => {
    await page.keyboard.press("Escape");
    const jpeg = await page.evaluate(async (strokes) => {
      const c = new OffscreenCanvas(200, 200), x = c.getContext("2d");
      x.fillStyle = "#fff"; x.fillRect(0, 0, 200, 200);
      x.strokeStyle = "#000"; x.lineWidth = 18; x.lineCap = "round";
      x.beginPath(); x.moveTo(strokes[0][0] * 200, strokes[0][1] * 200);
      for (const [a, b] of strokes.slice(1)) x.lineTo(a * 200, b * 200);
      x.stroke();
      return [...new Uint8Array(await (await c.convertToBlob({ type: "image/jpeg", quality: 0.9 })).arrayBuffer())];
    }, DIGITS[7][0]);
    const png7 = await makeImage(page, { w: 200, h: 200, paper: "#fff", ink: "#000", strokes: DIGITS[7] });
    for (const [name, buf, type] of [["cut.jpg", Buffer.from(jpeg.slice(0, Math.floor(jpeg.length * 0.6))), "image/jpeg"],
                                     ["cut.png", png7.subarray(0, png7.length - 20), "image/png"]]) {
      await page.setInputFiles("#file", { name, mimeType: type, buffer: buf });
      await page.waitForSelector("#error:not([hidden])", { timeout: T });
      const text = await page.textContent("#error");
      assert(text.includes(`${name} is cut short`), `${name}: '${text}'`);
      await assertNoAnswer(page, name);
      await page.keyboard.press("Escape");
    }
    await page.setInputFiles("#file", { name: "whole.jpg", mimeType: "image/jpeg", buffer: Buffer.from(jpeg) });
    await expectDigit(page, 7); // the same JPEG whole is read
    await page.keyboard.press("Escape");
    const send = (kind, b64) => page.evaluate(({ kind, b64 }) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "digit.png", { type: "image/png" }));
      const ev = kind === "drop" ? new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true })
                                 : new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true });
      (kind === "drop" ? document.getElementById("canvas") : document.body).dispatchEvent(ev);
    }, { kind, b64 });
    await send("drop", png7.toString("base64"));
    await expectDigit(page, 7);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
    const png0 = await makeImage(page, { w: 200, h: 200, paper: "#fff", ink: "#000", strokes: DIGITS[0] });
    await send("paste", png0.toString("base64"));
    await expectDigit(page, 0);
    await page.keyboard.press("Escape");
  });

  // ---- photos: sent as the file's own bytes, a big one scaled, EXIF orientation, none found

  // Sets files on an input and resolves with the first /api/predict request after it.
  const sendsFile = async (p, selector, file) => {
    const res = p.waitForResponse((r) => r.url().includes("/api/predict"), { timeout: T });
    await p.setInputFiles(selector, file);
    const r = await res;
    return { type: r.request().headers()["content-type"], body: r.request().postDataBuffer(), status: r.status(),
             json: await r.json().catch(() => null) };
  };
  const finalState = (p) => p.waitForFunction(() => document.getElementById("result").dataset.final === "true" &&
    !document.getElementById("result").dataset.pending && document.getElementById("result").dataset.state !== "empty",
    null, { timeout: T }).then(() => p.evaluate(() => document.getElementById("result").dataset.state));
  const phonePhotos = readdirSync(join(PHOTOS, "phone")).filter((f) => f.endsWith(".jpg")).sort()
    .map((f) => ({ name: f, label: Number(f[0]), buffer: readFileSync(join(PHOTOS, "phone", f)) }));

  await check("photos: a phone JPEG goes as its own bytes (EXIF included); its answer and what the server found are shown", page, async () => {
    assert(phonePhotos.length === 4, `${phonePhotos.length} photos made`);
    assert(phonePhotos.some((f) => exifOrientation(f.buffer) !== 1), "no photo with an EXIF orientation");
    assert(await page.isHidden("#camera"), "the camera button is shown on a desktop");
    for (const f of phonePhotos) {
      await page.keyboard.press("Escape");
      const sent = await sendsFile(page, "#file", { name: f.name, mimeType: "image/jpeg", buffer: f.buffer });
      assert(sent.type === "image/jpeg", `${f.name}: sent as ${sent.type}`);
      assert(sent.body && sent.body.equals(f.buffer), `${f.name}: ${sent.body && sent.body.length} bytes sent, not the file's ${f.buffer.length}`);
      await finalState(page);
      assert(sent.status === 200 && sent.json.prediction === f.label,
        `${f.name} (orientation ${exifOrientation(f.buffer)}): answered ${sent.status} ${sent.json && sent.json.prediction}`);
      await expectDigit(page, f.label);
      assert((await page.getAttribute("#seen", "src")) === sent.json.input, `${f.name}: the 28x28 view is not the answer's input`);
      assert(await page.isVisible("#seen"), `${f.name}: the 28x28 view is hidden`);
    }
    await page.keyboard.press("Escape");
  });

  await check("photos: a 12 MP JPEG over the body limit is sent as a JPEG scaled in the browser, and read", page, async () => {
    await page.keyboard.press("Escape");
    const file = readdirSync(join(PHOTOS, "big")).find((f) => f.endsWith(".jpg"));
    let buffer = readFileSync(join(PHOTOS, "big", file));
    const made = buffer.length;
    if (buffer.length <= MAX_BODY) buffer = padJpeg(buffer, MAX_BODY + 300000); // a sensor's noise makes it larger
    const [w, h] = jpegSize(buffer);
    assert(w * h >= 12e6, `the photo is ${w}x${h}`);
    await page.evaluate(() => {
      window.__upload = { t0: 0, t1: 0 };
      document.addEventListener("change", () => { __upload.t0 = performance.now(); }, { capture: true, once: true });
      const r = document.getElementById("result");
      const mo = new MutationObserver(() => {
        if (r.dataset.final === "true" && r.dataset.state === "result") { __upload.t1 = performance.now(); mo.disconnect(); }
      });
      mo.observe(r, { attributes: true, subtree: true, characterData: true, childList: true });
    });
    const sent = await sendsFile(page, "#file", { name: file, mimeType: "image/jpeg", buffer });
    await finalState(page);
    const [sw, sh] = jpegSize(sent.body);
    assert(sent.type === "image/jpeg" && sent.body.length <= MAX_BODY, `sent ${sent.body.length} bytes as ${sent.type}`);
    assert(Math.max(sw, sh) === 1600 && Math.abs(sw / sh - w / h) < 0.01, `sent at ${sw}x${sh} for a ${w}x${h} photo`);
    assert(sent.status === 200 && sent.json.prediction === Number(file[0]), `${file}: answered ${sent.status} ${sent.json && sent.json.prediction}`);
    await expectDigit(page, Number(file[0]));
    const t = await page.evaluate(() => __upload);
    console.log(`  ${w}x${h} JPEG of ${(buffer.length / 1048576).toFixed(1)} MiB (${(made / 1048576).toFixed(1)} MiB as made): ` +
      `sent as ${sw}x${sh}, ${(sent.body.length / 1024).toFixed(0)} KiB; file chosen to answer on screen ${(t.t1 - t.t0).toFixed(0)} ms`);
    await page.keyboard.press("Escape");
  });

  await check("photos: an EXIF-rotated JPEG is sent as it is, read upright, and shown upright and not squashed", page, async () => {
    await page.keyboard.press("Escape");
    const stored = await rotatedPhoto(page); // 360x240 pixels, meant to be turned by orientation 6
    const withExif = addExifOrientation(stored, 6);
    const sent = await sendsFile(page, "#file", { name: "rotated.jpg", mimeType: "image/jpeg", buffer: withExif });
    assert(sent.type === "image/jpeg" && sent.body.equals(withExif), "the rotated JPEG was not sent as its own bytes");
    await expectDigit(page, 7);
    // Upright, 240x360 shown in the square: its top left marker (a 60 px yellow square at
    // 15..75 px) is at the canvas's top, one sixth in from the left, and square.
    let m = await marker(page);
    const S = m.side, k = S / 360, want = [S / 6 + 45 * k, 45 * k];
    assert(Math.hypot(m.x - want[0], m.y - want[1]) < 6 * k, `the marker is at ${m.x.toFixed(0)},${m.y.toFixed(0)} of ${S}, not at ${want.map(Math.round)}: not upright`);
    assert(Math.abs(m.w / m.h - 1) < 0.1 && Math.abs(m.w - 60 * k) < 6 * k, `the marker is ${m.w}x${m.h} px, not ${(60 * k).toFixed(0)} square: squashed`);
    // Control: the same pixels without the orientation are shown as stored, on their side.
    await page.keyboard.press("Escape");
    await page.setInputFiles("#file", { name: "stored.jpg", mimeType: "image/jpeg", buffer: stored });
    await finalState(page);
    m = await marker(page);
    assert(Math.hypot(m.x - want[0], m.y - want[1]) > 40 * k, "without its orientation the marker is where the upright one is: the check above proves nothing");
    await page.keyboard.press("Escape");
  });

  await check("photos: other formats, and a file the server refuses as it is (413), go as the browser's JPEG", page, async () => {
    const cases = [
      { name: "seven.webp", type: "image/webp", buffer: await makeImage(page, { w: 300, h: 300, paper: "#fff", ink: "#000", strokes: DIGITS[7], type: "image/webp" }) },
      // 2400 px wide: under the body limit, over the server's 2048 px side (413), then scaled
      { name: "wide-seven.png", type: "image/png", buffer: await makeImage(page, { w: 2400, h: 600, paper: "#fff", ink: "#000", strokes: DIGITS[7] }) },
    ];
    for (const c of cases) {
      await page.keyboard.press("Escape");
      const sent = [];
      const onRequest = (r) => { if (r.url().includes("/api/predict")) sent.push([r.headers()["content-type"], r.postDataBuffer()]); };
      page.on("request", onRequest);
      try {
        await page.setInputFiles("#file", { name: c.name, mimeType: c.type, buffer: c.buffer });
        await expectDigit(page, 7);
      } finally {
        page.off("request", onRequest);
      }
      const types = sent.map((s) => s[0]);
      const want = c.type === "image/png" ? ["image/png", "image/jpeg"] : ["image/jpeg"];
      assert(types.join() === want.join(), `${c.name}: sent as ${types}, not ${want}`);
      const [sw, sh] = jpegSize(sent[sent.length - 1][1]);
      assert(Math.max(sw, sh) <= 1600, `${c.name}: sent at ${sw}x${sh}`);
    }
    await page.keyboard.press("Escape");
  });

  await check("photos: no digit found (422): the message and its hint shown and announced, no answer left", page, async () => {
    await page.keyboard.press("Escape");
    await drawMouse(page, DIGITS[0]);
    await expectDigit(page, 0);
    const sent = await sendsFile(page, "#file", { name: "blank-sheet.jpg", mimeType: "image/jpeg", buffer: await blankPhoto(page) });
    assert(sent.status === 422, `a photo of a blank sheet answered ${sent.status}`);
    await page.waitForFunction(() => document.getElementById("result").dataset.state === "nothing", null, { timeout: T });
    await assertNoAnswer(page, "a photo without a digit");
    assert((await page.textContent("#confidence")).includes("No digit found"), `'${await page.textContent("#confidence")}'`);
    const advice = await page.textContent("#advice");
    assert(/fill the frame/i.test(advice) && advice.includes("dark pen on light paper") && await page.isVisible("#advice"),
      `the hint: '${advice}'`);
    assert(await page.isHidden("#error"), "a 422 is shown as an error");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("dark pen on light paper"), null, { timeout: T })
      .catch(() => { throw new Error("the hint is not announced"); });
    const mid = await page.evaluate(() => { // the sheet's grey, not the canvas's white paper
      const c = document.getElementById("canvas");
      return [...c.getContext("2d").getImageData(c.width >> 1, c.height >> 1, 1, 1).data];
    });
    assert(mid[0] < 240 && mid[0] > 150, `the photo is not shown on the canvas: its middle is ${mid}`);
    await page.keyboard.press("Escape");
    await expectEmpty(page);
    assert(!(await page.isVisible("#advice")), "the hint stays after Clear");
  });

  await check("photos: strokes over a photo send the canvas PNG; Undo sends the photo's bytes again; Clear, Undo", page, async () => {
    await page.keyboard.press("Escape");
    const f = phonePhotos[0];
    const sent = [];
    const onRequest = (r) => { if (r.url().includes("/api/predict")) sent.push([r.headers()["content-type"], r.postDataBuffer()]); };
    const last = () => sent[sent.length - 1] || [];
    const isPhoto = () => last()[0] === "image/jpeg" && last()[1].equals(f.buffer);
    const settled = async () => { await finalState(page); await sleep(100); };
    page.on("request", onRequest);
    try {
      await page.setInputFiles("#file", { name: f.name, mimeType: "image/jpeg", buffer: f.buffer });
      await settled();
      assert(isPhoto(), `the photo sent as ${last()[0]}`);
      await drawMouse(page, [[[0.1, 0.1], [0.2, 0.1]]]);
      await settled();
      assert(last()[0] === "image/png", `a stroke over the photo sent as ${last()[0]}`);
      await page.keyboard.press("Control+z");
      await settled();
      assert(isPhoto(), `after Undo the photo sent as ${last()[0]}, ${last()[1] && last()[1].length} bytes`);
      const n = sent.length;
      await page.keyboard.press("Escape");
      await expectEmpty(page);
      await sleep(300);
      assert(sent.length === n, "a request after Clear");
      await page.keyboard.press("Control+z");
      await settled();
      assert(isPhoto() && sent.length === n + 1, "Undo of the Clear did not send the photo again");
      await expectDigit(page, f.label);
    } finally {
      page.off("request", onRequest);
    }
    await page.keyboard.press("Escape");
  });

  // ---- small things ------------------------------------------------------------------

  await check("the stroke width preview is as wide as the pen on the canvas", page, async () => {
    const dot = () => page.evaluate(() => {
      const c = document.getElementById("canvas"), w = Number(document.getElementById("width").value);
      return { dot: document.getElementById("width-dot").getBoundingClientRect().width, want: (w * c.clientWidth) / 280 };
    });
    await page.focus("#width");
    await page.keyboard.press("Home");
    const a = await dot();
    await page.keyboard.press("PageUp");
    const b = await dot();
    await page.$eval("#width", (e) => { e.value = e.defaultValue; e.dispatchEvent(new Event("input")); });
    assert(Math.abs(a.dot - a.want) < 1 && Math.abs(b.dot - Math.min(44, b.want)) < 1 && b.dot > a.dot,
      `preview ${a.dot} px for ${a.want}, ${b.dot} px for ${b.want}`);
  });

  await check("states: no caption without a picture, no grey dash for an error", page, async () => {
    await page.keyboard.press("Escape");
    assert(!(await page.isVisible("text=What the network saw")), "the caption is shown with no picture");
    await page.route("**/api/predict*", (route) => route.fulfill({ status: 500, json: { error: "boom" } }));
    try {
      await drawMouse(page, DIGITS[1]);
      await page.waitForSelector("#error:not([hidden])", { timeout: T });
      assert(!(await page.isVisible("#digit")), `the error state shows a digit box '${await page.textContent("#digit")}'`);
      assert(await page.isHidden("#retry"), "a 500 (not a passing outage) offers a retry");
    } finally {
      await page.unroute("**/api/predict*");
    }
    await page.keyboard.press("Escape");
  });

  await check("why this digit: the toggle asks final answers for ?explain=1 and shows the map over the 28x28", page, async () => {
    await page.keyboard.press("Escape");
    const urls = [];
    const onReq = (r) => { if (r.url().includes("/api/predict")) urls.push(r.url()); };
    page.on("request", onReq);
    await drawMouse(page, DIGITS[7]);
    await expectDigit(page, 7);
    assert(urls.every((u) => !u.includes("explain")), "asked for the map without the toggle");
    assert(await page.isHidden("#heat"), "a map without the toggle");
    urls.length = 0;
    await page.check("#explain"); // the drawing on screen is asked again, with the map
    await page.waitForSelector("#heat", { state: "visible", timeout: T });
    // (a live request of the drawing may still be on its way when the toggle is checked)
    assert(urls.length >= 1 && urls[urls.length - 1].endsWith("?explain=1"), `requests ${urls}`);
    const painted = await page.evaluate(() => {
      const d = document.getElementById("heat").getContext("2d").getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    assert(painted > 10, `${painted} pixels of the map painted`);
    assert(await page.isVisible("#why-legend"), "no legend for the map");
    urls.length = 0;
    await drawMouse(page, [[[0.3, 0.5], [0.7, 0.5]]]); // live requests while drawing stay cheap
    await sleep(300);
    assert(urls.slice(0, -1).every((u) => !u.includes("explain")) && urls[urls.length - 1].endsWith("?explain=1"),
      `live requests asked for the map: ${urls}`);
    await page.uncheck("#explain");
    await page.keyboard.press("Escape");
    page.off("request", onReq);
  });

  await check("contrast: canvas edge and bars at 3:1 or more, in both themes, from computed colours", page, async () => {
    for (const theme of ["light", "dark"]) {
      await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
      await page.click("#samples button"); // bars to measure
      await page.waitForFunction(() => document.getElementById("result").dataset.state === "result", null, { timeout: T });
      const r = await page.evaluate(() => {
        const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const ratio = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
        const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
        const page = css("body", "backgroundColor"), track = css("#bars .track", "backgroundColor");
        return {
          edgeVsPage: ratio(css("#canvas", "borderTopColor"), page),
          edgeVsPaper: ratio(css("#canvas", "borderTopColor"), css("#canvas", "backgroundColor")),
          topVsTrack: ratio(css("#bars li.top .fill", "backgroundColor"), track),
          barVsTrack: ratio(css("#bars li:not(.top) .fill", "backgroundColor"), track),
        };
      });
      for (const [k, v] of Object.entries(r)) assert(v >= 3, `${theme}: ${k} ${v.toFixed(2)}:1, under 3:1`);
      console.log(`  ${theme}: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
      await page.keyboard.press("Escape");
    }
    await page.evaluate(() => { delete document.documentElement.dataset.theme; });
  });

  const AXE = readFileSync(join(HERE, "node_modules", "axe-core", "axe.min.js"), "utf8");
  await check("axe-core: no violations in the light and the dark theme, with an answer on screen", page, async () => {
    await page.evaluate(AXE); // through the DevTools protocol: the page's CSP stays as it is
    for (const theme of ["light", "dark"]) {
      await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
      await page.click("#samples button:nth-child(3)");
      await expectDigit(page, 2);
      await page.check("#explain");
      await page.waitForSelector("#heat", { state: "visible", timeout: T });
      const v = await page.evaluate(async () => (await axe.run(document)).violations
        .map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(" ")).join(", ")}`));
      assert(v.length === 0, `${theme}: ${v.join("; ")}`);
      await page.uncheck("#explain");
      await page.keyboard.press("Escape");
    }
    await page.evaluate(() => { delete document.documentElement.dataset.theme; });
  });

  // ---- phones: the answer and the canvas in sight, 44 px targets, touch hints ----------

  const blankSheet = await blankPhoto(page);
  for (const [w, h] of [[320, 568], [390, 844], [844, 390]]) {
    const ctxP = await browser.newContext({ viewport: { width: w, height: h }, deviceScaleFactor: 2, hasTouch: true, isMobile: true });
    const p = await ctxP.newPage();
    watchErrors(p, `phone ${w}x${h}`);
    await p.goto(BASE + "/");
    await check(`phone ${w}x${h}: answer, canvas and tools in view while drawing; 44 px targets; touch hints`, p, async () => {
      await drawTouch(p, DIGITS[7]);
      await expectDigit(p, 7);
      const r = await p.evaluate(() => {
        const box = (el) => { const b = el.getBoundingClientRect(); return { top: b.top, bottom: b.bottom, left: b.left, right: b.right, w: b.width, h: b.height }; };
        const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
        const strip = document.getElementById("strip");
        const answer = shown(strip) ? strip : document.querySelector(".answer");
        const small = [...document.querySelectorAll("button, .upload, #width, .why")].filter(shown).map((el) => ({ el: el.id || el.className || el.textContent, ...box(el) }))
          .filter((b) => b.w < 44 || b.h < 44).map((b) => `${b.el} ${b.w.toFixed(0)}x${b.h.toFixed(0)}`);
        return { vw: window.innerWidth, vh: window.innerHeight, scrollY: window.scrollY, answer: box(answer), which: answer.id || answer.className,
                 answerText: answer.textContent.replace(/\s+/g, " ").trim(), canvas: box(document.getElementById("canvas")),
                 tools: box(document.querySelector(".tools")), small,
                 hints: [shown(document.querySelector(".hint-touch")), shown(document.querySelector(".hint-pointer"))] };
      });
      const inView = (b) => b.top >= 0 && b.left >= 0 && b.bottom <= r.vh + 0.5 && b.right <= r.vw + 0.5;
      assert(r.scrollY === 0, `the page scrolled to ${r.scrollY}`);
      assert(inView(r.answer) && r.answerText.includes("7"), `the answer (${r.which}: '${r.answerText}') is not in view: ${JSON.stringify(r.answer)} in ${r.vw}x${r.vh}`);
      assert(inView(r.canvas), `the canvas is not in view: ${JSON.stringify(r.canvas)} in ${r.vw}x${r.vh}`);
      assert(r.canvas.w >= 160, `the canvas is only ${r.canvas.w} px wide`);
      assert(inView(r.tools), `the tools are not in view: ${JSON.stringify(r.tools)} in ${r.vw}x${r.vh}`);
      assert(r.small.length === 0, `targets under 44x44 px: ${r.small.join(", ")}`);
      assert(r.hints[0] && !r.hints[1], `touch hint shown ${r.hints[0]}, keyboard hint shown ${r.hints[1]}`);
    });
    await check(`phone ${w}x${h}: "Take a photo" asks for the rear camera; no digit found: the hint in view; a photo read`, p, async () => {
      const cam = await p.evaluate(() => {
        const i = document.getElementById("camera");
        return { accept: i.accept, capture: i.getAttribute("capture"), name: i.labels[0].textContent.trim(),
                 shown: i.labels[0].getClientRects().length > 0 };
      });
      assert(cam.accept === "image/*" && cam.capture === "environment" && cam.name === "Take a photo" && cam.shown,
        `the camera input: ${JSON.stringify(cam)}`);
      await p.keyboard.press("Escape");
      await p.setInputFiles("#camera", { name: "blank.jpg", mimeType: "image/jpeg", buffer: blankSheet });
      await p.waitForFunction(() => document.getElementById("result").dataset.state === "nothing", null, { timeout: T });
      const r = await p.evaluate(() => {
        const el = document.getElementById("strip").getClientRects().length ? document.getElementById("strip") : document.getElementById("advice");
        const inView = (e) => { const b = e.getBoundingClientRect(); return b.top >= 0 && b.left >= 0 && b.bottom <= innerHeight + 0.5 && b.right <= innerWidth + 0.5; };
        return { text: el.textContent, hint: inView(el), canvas: inView(document.getElementById("canvas")), tools: inView(document.querySelector(".tools")) };
      });
      assert(r.text.includes("dark pen on light paper") && r.hint && r.canvas && r.tools, `after a 422: ${JSON.stringify(r)}`);
      const f = phonePhotos[0];
      await p.setInputFiles("#camera", { name: f.name, mimeType: "image/jpeg", buffer: f.buffer });
      await expectDigit(p, f.label);
    });
    await ctxP.close();
  }

  // ---- headed: the final answer within a bound after pen-up and Undo -----------------
  // A headed Chromium (under xvfb-run), scheduled as a user's (lib.mjs: asUser), draws frames
  // only when something changes; an encoder that waits for an idle period (canvas.toBlob)
  // then takes about a second, which headless Chromium and Playwright's default flags hide.
  // Not a benchmark: a guard that a 1 s wait on the interactive path fails.
  {
    const BOUND_MS = 500;
    if (ONLY && !ONLY.test("headed")) {
      console.log("skipped: headed");
    } else if (!process.env.DISPLAY) {
      failures++;
      console.log("FAIL: headed pen-up-to-answer: no DISPLAY (tests/browser_run.sh runs the test under xvfb-run; package xvfb)");
    } else {
      const headed = await launch({ headed: true, asUser: true });
      const hctx = await headed.newContext({ viewport: { width: 1100, height: 800 } });
      const hp = await hctx.newPage();
      watchErrors(hp, "headed page");
      await hp.goto(BASE + "/");
      await check("headed Chromium: pen-up and Undo to the final answer on screen", hp, async () => {
        assert(!(await hp.evaluate(() => navigator.userAgent)).includes("Headless"), "the browser is headless");
        await hp.evaluate(() => {
          window.__lat = { penup: [], undo: [] };
          let t = null, kind = null;
          const start = (k) => { t = performance.now(); kind = k; };
          window.addEventListener("pointerup", () => start("penup"), true);
          window.addEventListener("keydown", (e) => { if (e.ctrlKey && e.key.toLowerCase() === "z") start("undo"); }, true);
          const r = document.getElementById("result");
          new MutationObserver(() => {
            if (t === null || r.dataset.final !== "true" || r.dataset.state === "empty") return;
            const t0 = t, k = kind;
            t = null;
            requestAnimationFrame(() => __lat[k].push(performance.now() - t0)); // painted
          }).observe(r, { attributes: true, subtree: true, characterData: true, childList: true });
        });
        // Waits poll on a timer: Playwright's default polling runs requestAnimationFrame,
        // which keeps frames coming and would hide a wait for an idle period.
        const until = (fn, arg) => hp.waitForFunction(fn, arg, { timeout: T, polling: 50 });
        const shows = (d) => until((want) => document.getElementById("digit").textContent === want, String(d));
        for (let i = 0; i < 20; i++) {
          await hp.keyboard.press("Escape");
          const d = [1, 7, 0][i % 3];
          await drawMouse(hp, DIGITS[d]);
          await until((n) => __lat.penup.length === n, i + 1);
          await shows(d);
          await sleep(150); // idle: nothing animating, as after a real pen-up
          await drawMouse(hp, [[[0.15, 0.9], [0.3, 0.9]]]);
          await until((n) => __lat.penup.length === n, i + 2).catch(() => {});
          await hp.evaluate(() => __lat.penup.pop()); // the extra stroke is there to be undone
          await sleep(150);
          await hp.keyboard.press("Control+z");
          await until((n) => __lat.undo.length === n, i + 1);
          await shows(d);
        }
        const lat = await hp.evaluate(() => __lat);
        const stat = (a) => { const s = [...a].sort((x, y) => x - y); return { p50: s[Math.floor(s.length / 2)], p95: s[Math.ceil(s.length * 0.95) - 1], max: s[s.length - 1], n: s.length }; };
        for (const k of ["penup", "undo"]) {
          const s = stat(lat[k]);
          console.log(`  headed ${k} to final answer: p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (n=${s.n})`);
          assert(s.p95 < BOUND_MS, `${k}: p95 ${s.p95.toFixed(0)} ms, over ${BOUND_MS} ms: ${lat[k].map(Math.round)}`);
        }
      });
      await headed.close();
    }
  }

  await check("pool stopped: nginx's error status is shown", page, async () => {
    const pid = Number(readFileSync(PIDFILE, "utf8"));
    assert(pid > 1, `no pool pid in ${PIDFILE}`); // kill(0) would signal this process group
    process.kill(pid, "SIGTERM");
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
