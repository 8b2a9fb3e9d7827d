import { mimeBundle } from "../../lib/notebook/display.ts";
import {
  barPlot,
  heatmap,
  linePlot,
  plainData,
  plot,
  plotlyInlined,
  plotlyJs,
  plotlyLibraryBundle,
  plotlyScriptTag,
  resetPlotlyInline,
  scatter2d,
  scriptJson,
} from "../../lib/notebook/plot.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

function specOf(
  html: string,
): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const m = html.match(/var spec = (\{.*\});\n/);
  assert(m, "the chart script holds its spec");
  return JSON.parse(m[1]);
}

Deno.test("plot: a chart is a div plus a Plotly.newPlot script, without the library", async () => {
  const chart = plot([{ type: "bar", x: ["a", "b"], y: [1, 2] }], { title: "T" }, { height: 300 });
  const b = await mimeBundle(chart); // not in a kernel: never includes the library
  const html = b["text/html"];
  assert(
    html.includes(`<div class="ssl-plotly" id="${chart.id}" style="width:100%;height:300px">`),
  );
  assert(html.includes("window.Plotly.newPlot(el, spec.data, spec.layout, spec.config)"));
  assert(!html.includes("ssl-plotly-library"), "library not inlined outside a kernel");
  assert(html.length < 5000);
  assertEquals(b["text/plain"], "[plotly chart: T (1 bar trace)]");
  const spec = specOf(html);
  assertEquals(spec.layout.title, { text: "T" });
  assertEquals(spec.layout.height, 300);
});

Deno.test("plot: plotly.js is emitted once per process, later charts only reference window.Plotly", async () => {
  resetPlotlyInline();
  const emitted: Record<string, string>[] = [];
  const emit = (b: Record<string, string>) => {
    emitted.push(b);
  };
  const first = await plot([{ type: "scatter", y: [1, 2] }]).render(emit);
  const second = await plot([{ type: "scatter", y: [3, 4] }]).render(emit);
  assertEquals(emitted.length, 1, "library emitted exactly once");
  assert(plotlyInlined());
  const lib = emitted[0]["text/html"];
  assert(lib.length > 3_000_000, `library inline (${lib.length} chars)`);
  assert(lib.includes("ssl-plotly-library"));
  for (const b of [first, second]) {
    assert(b["text/html"].includes("Plotly.newPlot"));
    assert(!b["text/html"].includes("ssl-plotly-library"), "charts only reference window.Plotly");
  }
  resetPlotlyInline();
  assertEquals(plotlyInlined(), false);
  await plot([]).render(emit);
  assertEquals(emitted.length, 2, "after a reset the next chart emits the library again");
  resetPlotlyInline();
});

Deno.test("plot: the inline library hides AMD/CommonJS loaders and can sit in one bundle with a chart", () => {
  const tag = plotlyScriptTag();
  assert(tag.startsWith('<script type="text/javascript" class="ssl-plotly-library">'));
  assert(tag.includes("var module=undefined,exports=undefined,define=undefined;"));
  assert(tag.endsWith("</script>"));
  assertEquals(tag.match(/<\/script/gi)?.length, 1, "no early </script> inside the library");
  assert(plotlyJs().includes("window.Plotly = Plotly"));
  const both = plot([{ type: "bar", y: [1] }]).toMimeBundle(true)["text/html"];
  assert(both.indexOf("ssl-plotly-library") < both.indexOf("window.Plotly.newPlot"));
  assertEquals(plotlyLibraryBundle()["text/html"], tag);
});

Deno.test("plot: data is embedded safely and typed arrays become plain arrays", () => {
  assertEquals(scriptJson({ s: "</script><!--" }), '{"s":"\\u003c/script\\u003e\\u003c!--"}');
  const chart = plot([{ type: "bar", x: ["</script>"], y: new Float32Array([0.1, NaN]) }]);
  const html = chart.toMimeBundle(false)["text/html"];
  assertEquals(html.match(/<\/script>/g)?.length, 1, "only the chart's own closing tag");
  assertEquals(specOf(html).data[0].y, [0.1, null]);
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
    }).toMimeBundle(false)["text/html"],
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
    }).toMimeBundle(false)["text/html"],
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
      .toMimeBundle(false)["text/html"],
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
      .toMimeBundle(false)["text/html"],
  );
  assertEquals(s.data.map((t) => t.name), ["zero", "one", "two"]);
  assertEquals(s.data[0].x, [1, 4]);
  assertEquals(s.data[2].y, [0, 2]);
  assertEquals(s.data[0].mode, "markers");
  assertThrows(() => scatter2d(new Float32Array(3), [0, 1]), "need 2 per point");
});
