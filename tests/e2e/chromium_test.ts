/**
 * The browser driver (tools/notebooks/chromium.ts: puppeteer-core with the system Chromium):
 * it opens a page, evaluates, waits, clicks like a mouse, records the page's errors, accepts
 * its dialogs and takes screenshots. On CI (`CI` set) a missing Chromium fails the test
 * instead of skipping it.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, openPage, waitFor } from "../../tools/notebooks/chromium.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { chromiumMissing } from "./jupyter_available.ts";

const onCi = Deno.env.get("CI") !== undefined;

Deno.test({
  name: "chromium: opens a page, evaluates, clicks, answers dialogs and takes screenshots",
  ignore: !onCi && chromiumMissing !== undefined,
  async fn() {
    assertEquals(chromiumMissing, undefined, "CI must have Chromium");
    const browser = await launchChromium();
    const dir = await Deno.makeTempDir({ prefix: "ssl-chromium-" });
    try {
      const { page, log } = await openPage(browser, { width: 400, height: 300 });
      const html = join(dir, "page.html");
      await Deno.writeTextFile(
        html,
        `<button id="b" style="position:absolute;left:50px;top:200px;width:100px;height:40px"
           onclick="this.textContent = 'clicked ' + (window.n = (window.n || 0) + 1)">go</button>
         <script>setTimeout(() => { document.title = "later"; }, 300);
           window.addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = ""; });
         </script>`,
      );
      await page.goto(`file://${html}`);
      assertEquals(await page.evaluate("1 + 2"), 3);
      assertEquals(await page.evaluate("Promise.resolve({ a: [1, 'x'] })"), { a: [1, "x"] });
      await assertRejects(() => page.evaluate("null.x"), "Cannot read properties of null");
      assertEquals(
        await waitFor(page, "document.title === 'later' && document.title", 5000, "t"),
        "later",
      );
      await assertRejects(() => waitFor(page, "false", 300, "never", 50), "waiting for never");
      await page.click("#b");
      assertEquals(await page.evaluate("document.getElementById('b').textContent"), "clicked 1");
      await assertRejects(() => page.click("#nothing"), "#nothing");
      await page.evaluate("console.error('boom'); setTimeout(() => { throw new Error('late'); })");
      await page.evaluate("alert('hello')"); // accepted at once, as by a user
      await waitFor(page, "true", 1000, "a turn");
      await new Promise((r) => setTimeout(r, 200)); // the events reach this side
      assert(log.errors.includes("boom"), JSON.stringify(log.errors));
      assert(log.errors.some((e) => e.includes("late")), JSON.stringify(log.errors));
      assert(log.dialogs.includes("alert: hello"), JSON.stringify(log.dialogs));
      // A page that asks before it is left (as the Notebook does with unsaved changes).
      await page.click("#b"); // a user gesture: Chromium only asks after one
      await page.goto("data:text/html,<p>next</p>");
      assertEquals(await page.evaluate("document.querySelector('p').textContent"), "next");
      assert(log.dialogs.some((d) => d.startsWith("beforeunload")), JSON.stringify(log.dialogs));
      const shot = join(dir, "shot.png");
      const png = await page.screenshot({ path: shot });
      assertEquals([...readFileSync(shot).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      assertEquals(readFileSync(shot).length, png.length);
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
