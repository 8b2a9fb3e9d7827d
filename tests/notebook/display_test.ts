import { escapeHtml } from "../../lib/html.ts";
import {
  bundleSize,
  bundleText,
  display,
  displayable,
  flushDelayMs,
  formatCell,
  inKernel,
  JUPYTER_DISPLAY,
  mimeBundle,
  plainText,
  showMarkdown,
  showPng,
  showTable,
  toBase64,
} from "../../lib/notebook/display.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

// A valid 1x1 grey PNG.
const PNG_1x1 = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

Deno.test("display: not in a kernel under deno test", () => {
  assertEquals(inKernel(), false);
});

Deno.test("display: displayable renders its bundle asynchronously, via the Jupyter symbol", async () => {
  const d = displayable({ "text/plain": "hi" });
  assertEquals(typeof d[JUPYTER_DISPLAY], "function");
  assert(d[JUPYTER_DISPLAY]() instanceof Promise, "display method must be async");
  assertEquals(await mimeBundle(d), { "text/plain": "hi" });
  assertEquals(String(d), "hi");
  assertEquals(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
});

Deno.test("display: showPng gives image/png base64 and an <img> when a width is asked", async () => {
  const plain = await mimeBundle(showPng(PNG_1x1));
  assertEquals(plain["image/png"], toBase64(PNG_1x1));
  assertEquals(plain["text/html"], undefined);
  assertEquals(plain["text/plain"], "[PNG image 1x1]");
  const wide = await mimeBundle(showPng(PNG_1x1, { width: 120, alt: 'a "b" <c>' }));
  assert(wide["image/png"], "image/png kept");
  const img = bundleText(wide, "text/html");
  assert(img.includes('width="120"'));
  assert(img.includes("image-rendering:pixelated"));
  assert(img.includes('alt="a &quot;b&quot; &lt;c&gt;"'));
  assert(img.includes(`base64,${toBase64(PNG_1x1)}`));
  assertThrows(() => showPng(new Uint8Array([1, 2, 3])), "not a PNG");
  assertThrows(() => showPng(PNG_1x1, { width: 0 }), "width");
});

Deno.test("display: toBase64 matches btoa on large inputs", () => {
  const bytes = new Uint8Array(100_000).map((_, i) => (i * 37) & 255);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  assertEquals(toBase64(bytes), btoa(binary));
});

Deno.test("display: showTable escapes HTML and gives an aligned text fallback", async () => {
  const b = await mimeBundle(
    showTable([
      { arm: "supervised <200>", accuracy: 0.76123, n: 3 },
      { arm: "a & b", accuracy: 0.5, extra: "x" },
    ], { caption: "Test <accuracy>" }),
  );
  const html = bundleText(b, "text/html");
  assert(html.startsWith('<table class="ssl-table"'));
  assert(html.includes("supervised &lt;200&gt;"), html);
  assert(html.includes("a &amp; b"));
  assert(!html.includes("<200>"), "raw < must not reach the HTML");
  assert(html.includes("Test &lt;accuracy&gt;</caption>"));
  assert(html.includes('<th style="text-align:right">accuracy</th>'), "numbers right-aligned");
  assert(html.includes("<td>x</td>"));
  assertEquals(
    b["text/plain"],
    [
      "Test <accuracy>",
      "arm               accuracy  n  extra",
      "----------------  --------  -  -----",
      "supervised <200>  0.7612    3",
      "a & b             0.5000       x",
    ].join("\n"),
  );
});

Deno.test("display: showTable takes a string grid with a header row", async () => {
  const b = await mimeBundle(showTable([["k", "v"], ["<a>", "1"], ["b", "2"]]));
  assert(bundleText(b, "text/html").includes("<th>k</th><th>v</th>"));
  assert(bundleText(b, "text/html").includes("<td>&lt;a&gt;</td><td>1</td>"));
  assertEquals(plainText(b).split("\n")[0], "k    v");
});

Deno.test("display: formatCell and escapeHtml", () => {
  assertEquals(formatCell(3), "3");
  assertEquals(formatCell(0.123456), "0.1235");
  assertEquals(formatCell(0.5, 2), "0.50");
  assertEquals(formatCell(NaN), "NaN");
  assertEquals(formatCell(null), "");
  assertEquals(formatCell([1, 2]), "[1,2]");
  assertEquals(formatCell(new Float32Array([1, 2])), "[1,2]");
  assertEquals(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("display: showMarkdown carries rendered HTML too (front ends show it untrusted)", async () => {
  const md = "Backbone: **7,120** parameters; `ssl_new_head` <b>";
  assertEquals(await mimeBundle(showMarkdown(md)), {
    "text/markdown": md,
    "text/html": '<div class="ssl-markdown"><p>Backbone: <strong>7,120</strong> parameters; ' +
      "<code>ssl_new_head</code> &lt;b&gt;</p></div>",
    "text/plain": md,
  });
});

Deno.test("display: flushDelayMs, bundle sizes and text of JSON entries", async () => {
  assertEquals(flushDelayMs(100), 10);
  assert(flushDelayMs(11_000_000) >= 1000, "an 11 MB output waits over a second");
  const b = { "application/vnd.plotly.v1+json": { data: [1] }, "text/plain": "ab" };
  assertEquals(bundleSize(b), '{"data":[1]}'.length + 2);
  assertEquals(bundleText(b, "application/vnd.plotly.v1+json"), '{"data":[1]}');
  assertEquals(bundleText(b, "text/html"), "");
  assertEquals(plainText(b), "ab");
  assertEquals(plainText({ "text/html": "<b>" }), "[rich output]");
  // Outside a kernel display() prints the text fallback.
  const logged: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => logged.push(a.join(" "));
  try {
    await display(displayable(b));
  } finally {
    console.log = log;
  }
  assertEquals(logged, ["ab"]);
});
