/** The live metrics of pre-training: contrastive accuracy, collapse, kNN on validation. */
import { initBackend } from "../../lib/backend.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import {
  collapseIndicator,
  collapseWarning,
  contrastiveAccuracy,
  isCollapsing,
} from "../../lib/eval/monitor.ts";
import { buildBackbone, pretrain, projectionHead, splitLabels } from "../../lib/mod.ts";
import { pretrainMonitor } from "../../lib/train/pretrain_monitor.ts";
import { pretrainLine } from "../../lib/experiment/run_seed.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

function gaussian(rows: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * dim }, () => rng.normal(0, 1));
}

Deno.test("contrastive accuracy: 1 when twins are nearest, about chance when views are unrelated", () => {
  const n = 50, dim = 16;
  const a = gaussian(n, dim, 1);
  const twins = new Float32Array(2 * n * dim);
  twins.set(a, 0);
  twins.set(a.map((v, i) => v + 0.01 * Math.sin(i)), n * dim);
  assertEquals(contrastiveAccuracy(twins, n, dim), 1);
  const unrelated = gaussian(2 * n, dim, 2);
  assert(contrastiveAccuracy(unrelated, n, dim) < 0.1, "random pairs are rarely nearest");
  assertThrows(() => contrastiveAccuracy(new Float32Array(3), 1, 2), "rows x dim");
});

Deno.test("collapse indicator: about 1/sqrt(d) for spread views, 0 for one point", () => {
  const dim = 16;
  assertAlmostEquals(
    collapseIndicator(gaussian(2000, dim, 3), 2000, dim),
    1 / Math.sqrt(dim),
    0.02,
  );
  const same = new Float32Array(100 * dim).map((_, i) => (i % dim) + 1);
  assertAlmostEquals(collapseIndicator(same, 100, dim), 0, 1e-6);
  assert(isCollapsing(0.01, dim) && !isCollapsing(0.05, dim));
  assert(collapseWarning(0.01, dim, 2).includes("collapsing at epoch 3"));
});

Deno.test({
  name: "a deliberately collapsing run: the indicator falls and the epoch line warns",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const { train } = await loadMnist();
    const split = splitLabels(train, { labels: 100, seed: 0, maxUnlabelled: 2048 });
    const monitor = {
      labels: train.labels,
      labelled: split.labelled,
      validation: split.validation,
    };
    const fresh = pretrainMonitor({
      images: train.images,
      shape: [28, 28, 1],
      indices: split.unlabelled,
      makeViews: (b) => [b, b],
      rng: new Rng(0),
      monitor,
    });
    const f = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
    const g = projectionHead({
      kind: "mlp",
      inputDim: 32,
      hidden: [32, 16],
      outputDim: 10,
      seed: 0,
    });
    const before = (await fresh.measure(f, g)).zStd;
    f.dispose();
    g.dispose();
    const lines: string[] = [];
    // A learning rate 500x the recipe's: the ReLUs die and every view maps to one point.
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      backbone: { kind: "article" }, // no batch norm: its ReLUs die at this rate
      head: { kind: "mlp", hidden: [32, 16], outputDim: 10 },
      augment: { preset: "digits" },
      epochs: 4,
      batchSize: 256,
      learningRate: 0.5,
      earlyStop: undefined,
      monitor,
      onEpoch: (e) => void lines.push(pretrainLine(e, 256)),
    });
    const last = pre.history.at(-1)!;
    pre.dispose();
    assert(!isCollapsing(before, 10), `healthy at the start: ${before}`);
    assert(last.zStd! < before / 3 && isCollapsing(last.zStd!, 10), `collapsed: ${last.zStd}`);
    assert(lines.at(-1)!.includes("warning: the projections are collapsing"), lines.at(-1));
    // The effective rank of z says the same: a handful of directions out of 10.
    const rank = /RankMe h [\d.]+\/\d+, z ([\d.]+)\/10/.exec(lines.at(-1)!);
    assert(rank !== null && Number(rank[1]) < 2, lines.at(-1));
  },
});
