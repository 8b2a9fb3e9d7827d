import { gunzipSync } from "node:zlib";
import { bundleText, type MimeBundle, mimeBundle } from "../../lib/notebook/display.ts";
import {
  barPlot,
  CHART_NOTE_CLASS,
  heatmap,
  LIBRARY_NOTE_CLASS,
  linePlot,
  plainData,
  plot,
  PLOTLY_MIME,
  plotlyInlined,
  plotlyJs,
  plotlyLibraryBundle,
  plotlyPayload,
  plotlyScriptTag,
  resetPlotlyInline,
  scatter2d,
  scriptJson,
} from "../../lib/notebook/plot.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

const html = (b: MimeBundle) => bundleText(b, "text/html");

/** What a front end that does not trust the notebook keeps of an HTML output: no scripts. */
function untrustedText(markup: string): string {
  return markup.replace(/<script[\s\S]*?<\/script>/gi, "").replace(/<[^>]+>/g, "").trim();
}

function specOf(
  html: string,
): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const m = html.match(/var spec = (\{.*\});\n/);
  assert(m, "the chart script holds its spec");
  return JSON.parse(m[1]);
}

Deno.test("plot: a chart carries the plotly MIME type, an HTML fallback and a text line", async () => {
  const chart = plot([{ type: "bar", x: ["a", "b"], y: [1, 2] }], { title: "T <1>" }, {
    height: 300,
  });
  const b = await mimeBundle(chart); // not in a kernel: never includes the library
  assertEquals(b[PLOTLY_MIME], {
    data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }],
    layout: { title: { text: "T <1>" }, height: 300 },
    config: { responsive: true, displaylogo: false },
  });
  assertEquals(PLOTLY_MIME, "application/vnd.plotly.v1+json");
  const h = html(b);
  assert(h.includes(`<div class="ssl-plotly" id="${chart.id}" style="width:100%">`), h);
  assert(h.includes("window.Plotly.newPlot(el, spec.data, spec.layout, spec.config)"));
  assert(h.includes('el.style.height = "300px"'), "the script sizes the div, not the markup");
  assert(!h.includes("ssl-plotly-library"), "library not inlined outside a kernel");
  assert(h.length < 5000);
  assertEquals(b["text/plain"], "[plotly chart: T <1> (1 bar trace)]");
  const spec = specOf(h);
  assertEquals(spec, JSON.parse(JSON.stringify(b[PLOTLY_MIME])), "HTML and JSON: the same figure");
});

Deno.test("plot: where scripts do not run, a chart shows its title and how to see it", () => {
  const h = html(
    plot([{ type: "bar", y: [1] }], { title: "Accuracy <by arm>" }).toMimeBundle(false),
  );
  assert(h.includes(`class="${CHART_NOTE_CLASS}"`));
  assert(h.includes("<b>Accuracy &lt;by arm&gt;</b>"), "the title, escaped");
  assertEquals(
    untrustedText(h),
    "Accuracy &lt;by arm&gt; (interactive plotly chart: it draws here once the notebook is " +
      "trusted, or when you re-run this cell)",
  );
  assert(!/style="[^"]*height/.test(h), "no fixed-height empty box where scripts do not run");
  const untitled = html(plot([{ type: "scatter", y: [1] }]).toMimeBundle(false));
  assert(untrustedText(untitled).startsWith("a plotly chart ("), untrustedText(untitled));
});

Deno.test("plot: plotly.js is emitted once per process, later charts only reference window.Plotly", async () => {
  resetPlotlyInline();
  const emitted: MimeBundle[] = [];
  const emit = (b: MimeBundle) => {
    emitted.push(b);
  };
  const first = await plot([{ type: "scatter", y: [1, 2] }]).render(emit);
  const second = await plot([{ type: "scatter", y: [3, 4] }]).render(emit);
  assertEquals(emitted.length, 1, "library emitted exactly once");
  assert(plotlyInlined());
  const lib = html(emitted[0]);
  assert(lib.length > 1_000_000 && lib.length < 2_800_000, `library inline (${lib.length} chars)`);
  assert(lib.includes("ssl-plotly-library"));
  for (const b of [first, second]) {
    assert(html(b).includes("Plotly.newPlot"));
    assert(!html(b).includes("ssl-plotly-library"), "charts only reference window.Plotly");
  }
  resetPlotlyInline();
  assertEquals(plotlyInlined(), false);
  await plot([]).render(emit);
  assertEquals(emitted.length, 2, "after a reset the next chart emits the library again");
  resetPlotlyInline();
});

Deno.test("plot: the library is plotly.js, gzip + base64, unpacked in the page with loaders hidden", () => {
  const p = plotlyPayload();
  const bytes = gunzipSync(Uint8Array.from(atob(p.base64), (c) => c.charCodeAt(0)));
  const source = new TextDecoder().decode(bytes);
  assertEquals(bytes.length, p.sourceBytes);
  assert(source.includes("window.Plotly"), "the library defines window.Plotly");
  assert(p.gzipBytes < 2_100_000, `${p.gzipBytes} bytes of gzip`);
  if (p.source === "minified") assert(p.sourceBytes < plotlyJs().length / 2, "minified");
  assert(plotlyJs().includes("window.Plotly = Plotly"));

  const tag = plotlyScriptTag();
  assert(tag.includes(`<div class="${LIBRARY_NOTE_CLASS}">plotly.js ${p.version} `), "a note");
  assert(tag.includes('<script type="text/javascript" class="ssl-plotly-library">'));
  assert(tag.includes('new DecompressionStream("gzip")'));
  assert(tag.includes('new Function("module", "exports", "define", "require", src)'));
  assert(tag.includes(`var b64 = "${p.base64}";`));
  assert(tag.endsWith("</script>"));
  assertEquals(tag.match(/<\/script/gi)?.length, 1, "no early </script> inside the library");
  assert(!tag.includes('class="ssl-plotly"'), "not counted as a chart");
  assert(untrustedText(tag).includes("once the notebook is trusted"), "explains itself untrusted");
  const both = html(plot([{ type: "bar", y: [1] }]).toMimeBundle(true));
  assert(both.indexOf("ssl-plotly-library") < both.indexOf("window.Plotly.newPlot"));
  assertEquals(plotlyLibraryBundle()["text/html"], tag);
});

Deno.test("plot: data is embedded safely and typed arrays become plain arrays", () => {
  assertEquals(scriptJson({ s: "</script><!--" }), '{"s":"\\u003c/script\\u003e\\u003c!--"}');
  const chart = plot([{ type: "bar", x: ["</script>"], y: new Float32Array([0.1, NaN]) }]);
  const h = html(chart.toMimeBundle(false));
  assertEquals(h.match(/<\/script>/g)?.length, 1, "only the chart's own closing tag");
  assertEquals(specOf(h).data[0].y, [0.1, null]);
  assertEquals(plainData({ a: new Int32Array([1, 2]), b: [new Uint8Array([3])] }), {
    a: [1, 2],
    b: [[3]],
  });
});

Deno.test("plot: linePlot puts y2 series on a right-hand axis", () => {
  const spec = specOf(
    linePlot({ x: [1, 2, 3], ys: { loss: [3, 2, 1], lr: [1e-3, 9e-4, 8e-4] } }, {
      title: "Loss",
      xTitle: "epoch",
      yTitle: "loss",
      y2: { names: ["lr"], title: "learning rate" },
    }).toMimeBundle(false)["text/html"] as string,
  );
  assertEquals(spec.data.map((t) => t.name), ["loss", "lr"]);
  assertEquals(spec.data[0].yaxis, undefined);
  assertEquals(spec.data[1].yaxis, "y2");
  assertEquals((spec.layout.yaxis2 as Record<string, unknown>).overlaying, "y");
  assertEquals((spec.layout.yaxis2 as Record<string, unknown>).side, "right");
  assertEquals((spec.layout.xaxis as Record<string, unknown>).title, { text: "epoch" });
  assertThrows(() => linePlot({ x: [1], ys: { a: [1] } }, { y2: { names: ["b"] } }), '"b"');
});

Deno.test("plot: barPlot groups series and draws error bars", () => {
  const spec = specOf(
    barPlot(["sup", "ssl"], { mean: [0.7, 0.8] }, {
      title: "Acc",
      yTitle: "accuracy",
      errorBars: { mean: [0.01, 0.02] },
      yRange: [0, 1],
    }).toMimeBundle(false)["text/html"] as string,
  );
  assertEquals(spec.data[0].type, "bar");
  assertEquals(spec.data[0].error_y, { type: "data", array: [0.01, 0.02], visible: true });
  assertEquals(spec.layout.barmode, "group");
  assertEquals((spec.layout.yaxis as Record<string, unknown>).range, [0, 1]);
  assertThrows(() => barPlot(["a"], { s: [1, 2] }), "2 values, 1 categories");
});

Deno.test("plot: heatmap and scatter2d", () => {
  const h = specOf(
    heatmap([[1, 2], [3, 4]], { x: [0, 1], y: ["a", "b"], title: "CM", colorscale: "Blues" })
      .toMimeBundle(false)["text/html"] as string,
  );
  assertEquals(h.data[0].z, [[1, 2], [3, 4]]);
  assertEquals(h.data[0].x, ["0", "1"]);
  assertEquals(h.data[0].colorscale, "Blues");
  assert(h.data[0].texttemplate, "values written on small matrices");
  assertEquals((h.layout.yaxis as Record<string, unknown>).autorange, "reversed");

  const pts = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  const s = specOf(
    scatter2d(pts, new Int32Array([2, 0, 2, 1, 0]), {
      title: "emb",
      classNames: ["zero", "one", "two"],
    })
      .toMimeBundle(false)["text/html"] as string,
  );
  assertEquals(s.data.map((t) => t.name), ["zero", "one", "two"]);
  assertEquals(s.data[0].x, [1, 4]);
  assertEquals(s.data[2].y, [0, 2]);
  assertEquals(s.data[0].mode, "markers");
  assertThrows(() => scatter2d(new Float32Array(3), [0, 1]), "need 2 per point");
});

Deno.test("plot: without minification plotly.js still travels compressed, under 2.7 MB", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "ssl-plotly-cache-" });
  try {
    const p = plotlyPayload({ minify: false, cacheDir });
    assertEquals(p.source, "original");
    assertEquals(p.sourceBytes, new TextEncoder().encode(plotlyJs()).length);
    assert(p.base64.length < 2_700_000, `${p.base64.length} characters of base64`);
    const cached = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
    assertEquals(
      cached,
      [`plotly-${p.version}-${plotlyJs().length}.js.gz`],
      "cached for next time",
    );
    assertEquals(plotlyPayload({ minify: false, cacheDir }).base64, p.base64, "read back");
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
