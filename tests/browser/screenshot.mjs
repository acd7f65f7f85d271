// screenshot.mjs BASE_URL OUT.png: the README's pictures of the page, from the real stack
// (tests/browser_run.sh DIGITD --screenshot OUT.png starts it): a 7 drawn with the mouse at a
// desktop size in light mode with "Why this digit" on (OUT.png), and a 7 drawn with a finger
// on a 390x844 phone (OUT-phone.png), each once its final answer is settled on screen.
import { DIGITS, drawMouse, drawTouch, expectDigit, launch } from "./lib.mjs";

const [BASE, OUT] = process.argv.slice(2);
const PHONE = OUT.replace(/\.png$/, "-phone.png");
const settled = (page) => page.waitForFunction(() => document.getElementById("status").textContent.includes("Prediction: 7"));
const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 960, height: 640 }, colorScheme: "light" });
  const page = await ctx.newPage();
  await page.goto(BASE + "/");
  await drawMouse(page, DIGITS[7]);
  await expectDigit(page, 7);
  await page.check("#explain");   // the toggle comes with the first answer's picture
  await page.waitForSelector("#heat", { state: "visible" });
  await settled(page);
  await page.waitForTimeout(300); // the bars' 120 ms transition has ended
  await page.mouse.move(0, 0);    // no hover outline anywhere
  await page.evaluate(() => document.activeElement.blur());
  await page.screenshot({ path: OUT });
  console.log(`screenshot: ${OUT}`);

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1,
    hasTouch: true, isMobile: true, colorScheme: "light" });
  const p = await phone.newPage();
  await p.goto(BASE + "/");
  await drawTouch(p, DIGITS[7]);
  await expectDigit(p, 7);
  await settled(p);
  await p.waitForTimeout(300);
  await p.screenshot({ path: PHONE });
  console.log(`screenshot: ${PHONE}`);
} finally {
  await browser.close();
}
