// screenshot.mjs BASE_URL OUT.png: the README's picture of the page, from the real stack
// (tests/browser_run.sh DIGITD --screenshot OUT.png starts it): a 7 drawn with the mouse at a
// desktop size in light mode, once its final answer is on screen.
import { DIGITS, drawMouse, expectDigit, launch } from "./lib.mjs";

const [BASE, OUT] = process.argv.slice(2);
const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 960, height: 640 }, colorScheme: "light" });
  const page = await ctx.newPage();
  await page.goto(BASE + "/");
  await drawMouse(page, DIGITS[7]);
  await expectDigit(page, 7);
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("Prediction: 7"));
  await page.waitForTimeout(300); // the bars' 120 ms transition has ended
  await page.mouse.move(0, 0);    // no hover outline anywhere
  await page.screenshot({ path: OUT });
  console.log(`screenshot: ${OUT}`);
} finally {
  await browser.close();
}
