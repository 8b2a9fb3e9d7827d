import { liveChart, pretrainChart } from "../../lib/notebook/live_chart.ts";
import { assert, assertEquals } from "../assert.ts";

const epoch = (e: number) => ({
  epoch: e,
  loss: 6 - e,
  learningRate: 1e-3,
  seconds: 1,
  steps: 10,
  contrastiveAccuracy: 0.1 * e,
  knnAccuracy: 0.5 + 0.1 * e,
  zStd: 0.1,
  zDim: 16,
});

Deno.test("a live chart is one output: display_data once, then update_display_data with its id", async () => {
  const sent: { type: string; content: Record<string, unknown> }[] = [];
  const live = liveChart({
    kernel: true,
    broadcast: (type, content) => sent.push({ type, content }),
  });
  const history = [epoch(0)];
  await live.update(pretrainChart(history));
  history.push(epoch(1));
  await live.update(pretrainChart(history));
  assertEquals(sent.map((m) => m.type), ["display_data", "update_display_data"]);
  const ids = sent.map((m) => (m.content.transient as { display_id: string }).display_id);
  assertEquals(ids[0], ids[1]);
  assertEquals(ids[0], live.displayId);
  const data = sent[1].content.data as Record<string, { data: { name: string; y: number[] }[] }>;
  const figure = data["application/vnd.plotly.v1+json"];
  const knn = figure.data.find((t) => t.name.startsWith("kNN"))!;
  assertEquals(knn.y, [0.5, 0.6], "the second draw holds both epochs");
  const spread = figure.data.find((t) => t.name.startsWith("z spread"))!;
  assert(Math.abs(spread.y[0] - 0.4) < 1e-9, "spread as a share of 1/√d");
});

Deno.test("outside a kernel a live chart sends nothing", async () => {
  const sent: string[] = [];
  const live = liveChart({ kernel: false, broadcast: (t) => sent.push(t) });
  await live.update(pretrainChart([epoch(0)]));
  assertEquals(sent, []);
  assertEquals(live.displayId, undefined);
});

Deno.test("the live chart shows the effective ranks of h and z as shares of their widths", () => {
  const traces = (history: Parameters<typeof pretrainChart>[0]) =>
    pretrainChart(history).traces as { name: string; y: number[] }[];
  const withRank = traces([{ ...epoch(0), rankH: 16, hDim: 32, rankZ: 4 }]);
  assertEquals(withRank.find((t) => t.name.startsWith("effective rank of h"))!.y, [0.5]);
  assertEquals(withRank.find((t) => t.name.startsWith("effective rank of z"))!.y, [0.25]);
  assert(!traces([epoch(0)]).some((t) => t.name.startsWith("effective rank")), "no rank, no trace");
});
