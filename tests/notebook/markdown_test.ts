import { inlineHtml, markdownToHtml, tableCellsOf } from "../../lib/notebook/markdown.ts";
import { assertEquals } from "../assert.ts";

Deno.test("markdown: the banner's inline markup, with underscores inside words kept", () => {
  assertEquals(
    markdownToHtml("dataset **mnist**: 60,000 images · `ssl_new_head` vs ssl_same_head · _note_"),
    "<p>dataset <strong>mnist</strong>: 60,000 images · <code>ssl_new_head</code> vs " +
      "ssl_same_head · <em>note</em></p>",
  );
  assertEquals(
    inlineHtml("*a* and *b c* but 2 * 3 * 4"),
    "<em>a</em> and <em>b c</em> but 2 * 3 * 4",
  );
  assertEquals(
    inlineHtml("`**not bold**` **bold `code`**"),
    "<code>**not bold**</code> <strong>bold <code>code</code></strong>",
  );
});

Deno.test("markdown: every text is escaped, links only to safe targets", () => {
  assertEquals(
    inlineHtml("<script>alert(\"x\")</script> & 'q'"),
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;",
  );
  assertEquals(
    inlineHtml("[docs](https://example.org/a?b=1&c=2) [x](javascript:alert) [rel](../README.md)"),
    '<a href="https://example.org/a?b=1&amp;c=2">docs</a> x <a href="../README.md">rel</a>',
  );
  assertEquals(inlineHtml("line  \nnext"), "line<br>\nnext");
});

Deno.test("markdown: lists, headings, paragraphs, code blocks and rules", () => {
  assertEquals(
    markdownToHtml(
      "### The saved run\n\nText one\ncontinued.\n\n- a **b**\n- c\n  more of c\n\n3. three\n4. four\n\n" +
        "```ts\nconst x = 1 < 2;\n```\n---",
    ),
    [
      "<h3>The saved run</h3>",
      "<p>Text one\ncontinued.</p>",
      "<ul><li>a <strong>b</strong></li><li>c\nmore of c</li></ul>",
      '<ol start="3"><li>three</li><li>four</li></ol>',
      '<pre><code class="language-ts">const x = 1 &lt; 2;</code></pre>',
      "<hr>",
    ].join("\n"),
  );
  assertEquals(
    markdownToHtml("Results:\n- one\n- two"),
    "<p>Results:</p>\n<ul><li>one</li><li>two</li></ul>",
  );
});

Deno.test("markdown: pipe tables with alignment, escaped pipes and missing cells", () => {
  assertEquals(tableCellsOf("| a | b \\| c |  |"), ["a", "b | c", ""]);
  assertEquals(
    markdownToHtml(
      "Head study\n\n| head | test |\n| --- | ---: |\n| **none** | 52.6% ± 37.1 |\n| linear |",
    ),
    "<p>Head study</p>\n" +
      '<table><thead><tr><th>head</th><th style="text-align:right">test</th></tr></thead>' +
      '<tbody><tr><td><strong>none</strong></td><td style="text-align:right">52.6% ± 37.1</td></tr>' +
      '<tr><td>linear</td><td style="text-align:right"></td></tr></tbody></table>',
  );
  // Not a table without its rule row.
  assertEquals(markdownToHtml("| a |\n| b |"), "<p>| a |\n| b |</p>");
});
