import { mimeBundle } from "../../lib/notebook/display.ts";
import { trainingCurves } from "../../lib/notebook/curves.ts";
import { PLOTLY_MIME } from "../../lib/notebook/plot.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const record = (step: number, validationAccuracy?: number) => ({
  epoch: step / 3 - 1,
  step,
  loss: 2 / step,
  trainAccuracy: 0.5,
  learningRate: 1e-3,
  validationAccuracy,
  seconds: 1,
});

type Figure = { data: Record<string, unknown>[]; layout: Record<string, unknown> };

Deno.test("trainingCurves: every run against its optimiser steps, losses on the right axis", async () => {
  const chart = trainingCurves({
    article: { history: [record(3, 0.2), record(6, 0.3), record(9, 0.35)] },
    strong: { history: [record(10, 0.5), record(20, undefined)] },
  }, { metrics: ["validation accuracy", "training loss"], title: "two runs" });
  const fig = (await mimeBundle(chart))[PLOTLY_MIME] as unknown as Figure;
  assertEquals(fig.data.map((t) => t.name), [
    "article: validation accuracy",
    "article: training loss",
    "strong: validation accuracy",
    "strong: training loss",
  ]);
  assertEquals(fig.data[0].x, [3, 6, 9]);
  assertEquals(fig.data[2].x, [10, 20]);
  // A record without validation images leaves a gap, not a zero.
  assertEquals(fig.data[2].y, [0.5, null]);
  assertEquals(fig.data[1].yaxis, "y2");
  assertEquals(fig.data[0].yaxis, undefined);
  assertEquals((fig.layout.xaxis as { title: { text: string } }).title.text, "optimiser steps");
  assertEquals((fig.layout.title as { text: string }).text, "two runs");
});

Deno.test("trainingCurves: one metric names each line after its run; nothing to draw is an error", async () => {
  const chart = trainingCurves({ a: { history: [record(3, 0.2)] } }, {
    metrics: ["validation accuracy"],
  });
  const fig = (await mimeBundle(chart))[PLOTLY_MIME] as unknown as Figure;
  assertEquals(fig.data.map((t) => t.name), ["a"]);
  assertEquals(fig.layout.yaxis2, undefined);
  assertThrows(() => trainingCurves({}), "at least one run");
  assertThrows(() => trainingCurves({ a: { history: [] } }, { metrics: [] }), "one metric");
});
