import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { blockHead } from "../../lib/models/heads/block_head.ts";
import { predictionHead } from "../../lib/models/heads/method_heads.ts";
import { Rng } from "../../lib/rng.ts";
import { Checkpoint } from "../../lib/train/checkpoint.ts";
import { SslWorkers } from "../../lib/train/parallel/ssl_workers.ts";
import { type PretrainConfig, pretrainContrastive } from "../../lib/train/pretrain.ts";
import type { SslMethod } from "../../lib/train/ssl_method.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { barImages, noisyViews } from "./train_helpers.ts";

const SHAPE: [number, number, number] = [28, 28, 1];
const data = barImages(64, 1);
const indices = Int32Array.from({ length: 64 }, (_, i) => i);
const base: PretrainConfig = { epochs: 3, batchSize: 16, learningRate: 3e-3, temperature: 0.5 };

/**
 * A small network without batch normalisation (its rows are independent, so data-parallel
 * steps equal one thread's up to rounding): a dense backbone, a 2-layer head, a predictor.
 * Backbone and head have no biases: Barlow Twins' and VICReg's losses are blind to a shift of
 * z, so the gradient of a bias before z is zero for a unit active on every row, and its rounding
 * noise is what Adam would then step on (by the learning rate, differently on 1 and 2 workers).
 */
function nets(method: SslMethod, options: { predictor?: boolean; bn?: boolean } = {}) {
  const backbone = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: SHAPE }),
      tf.layers.dense({
        units: 32,
        activation: "relu",
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
    ],
  });
  const head = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [32],
        units: 32,
        activation: "relu",
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.dense({
        units: 16,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
      }),
    ],
  });
  const predictor = (method === "byol" || method === "simsiam") && options.predictor !== false
    ? options.bn
      ? predictionHead(16, 32, 5)
      : blockHead(16, [{ units: 32, activation: "relu" }, { units: 16 }], "predictor", 5)
    : undefined;
  return {
    backbone,
    head,
    predictor,
    dispose() {
      backbone.dispose();
      head.dispose();
      predictor?.dispose();
    },
  };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

async function run(
  method: SslMethod,
  extra: Partial<PretrainConfig> = {},
  dir?: string,
  options: { predictor?: boolean; bn?: boolean; killAfter?: number } = {},
) {
  const m = nets(method, options);
  try {
    const result = await pretrainContrastive({
      ...m,
      images: data.images,
      shape: SHAPE,
      indices,
      makeViews: noisyViews,
      rng: new Rng(5),
      config: { ...base, method, ...extra },
      checkpointDir: dir,
      onEpoch: (e) => {
        if (e.epoch + 1 === options.killAfter) throw new Error("killed");
      },
    });
    return { result, backbone: weightsOf(m.backbone), head: weightsOf(m.head) };
  } finally {
    m.dispose();
  }
}

/** Whether two lists of weights are bit-for-bit the same (without printing them all). */
function same(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((w, i) => w.every((v, j) => Object.is(v, b[i][j])));
}

/** Largest |a - b| over every tensor, relative to the tensor's largest |b|. */
function worstRelative(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((w, i) => {
    let diff = 0;
    let scale = 0;
    w.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(v - b[i][j]));
      scale = Math.max(scale, Math.abs(b[i][j]));
    });
    worst = Math.max(worst, diff / Math.max(scale, 1e-12));
  });
  return worst;
}

Deno.test("every method lowers its loss on a tiny dataset, and leaves no tensor behind", async () => {
  await initBackend();
  await run("byol", { epochs: 1 }); // warm-up: kernels
  for (const method of ["simclr", "byol", "simsiam", "barlow", "vicreg"] as const) {
    const before = tf.memory().numTensors;
    const { result } = await run(method, {}, undefined, { bn: true });
    assertEquals(tf.memory().numTensors, before, `${method}: tensors alive after pre-training`);
    const h = result.history.map((e) => e.loss);
    assertEquals(h.length, 3);
    assert(h[2] < h[0], `${method}: the loss went from ${h[0]} to ${h[2]}`);
  }
});

Deno.test("BYOL: after a step the target is the EMA of its start and the online weights (no gradient)", async () => {
  await initBackend();
  const dir = await Deno.makeTempDir();
  try {
    const start = nets("byol");
    const initial = [...weightsOf(start.backbone), ...weightsOf(start.head)];
    start.dispose();
    const one = await run("byol", { epochs: 1, maxStepsPerEpoch: 1 }, dir);
    const online = [...one.backbone, ...one.head];
    const saved = Checkpoint.open(dir);
    assertEquals(saved.models.sort(), [
      "backbone",
      "head",
      "predictor",
      "target_backbone",
      "target_head",
    ]);
    const tb = await saved.model("target_backbone");
    const th = await saved.model("target_head");
    const target = [...weightsOf(tb), ...weightsOf(th)];
    tb.dispose();
    th.dispose();
    // τ = 0.99 at the first step: ξ = 0.99·ξ0 + 0.01·θ1. A gradient step would move it further.
    let moved = 0;
    target.forEach((w, i) =>
      w.forEach((v, j) => {
        const expected = 0.99 * initial[i][j] + 0.01 * online[i][j];
        assertAlmostEquals(v, expected, 1e-6, `target weight ${i}[${j}]`);
        moved = Math.max(moved, Math.abs(online[i][j] - initial[i][j]));
      })
    );
    assert(moved > 1e-4, "the online network trained");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BYOL: an interrupted run resumes to the same weights; a bad method is one line", async () => {
  await initBackend();
  const whole = await run("byol", { epochs: 2 });
  const dir = await Deno.makeTempDir();
  try {
    // Killed after epoch 1 of 2 (τ's cosine runs over the budget: the same budget resumes).
    await assertRejects(() => run("byol", { epochs: 2 }, dir, { killAfter: 1 }), "killed");
    const resumed = await run("byol", { epochs: 2 }, dir);
    assertEquals(resumed.result.resumedAt, 1);
    assert(same(resumed.backbone, whole.backbone), "resumed vs uninterrupted backbone");
    assert(same(resumed.head, whole.head), "resumed vs uninterrupted head");
    // Another method in the same folder is refused by the fingerprint.
    await assertRejects(() => run("simsiam", { epochs: 2 }, dir), "method byol", "simsiam");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const err = await assertRejects(
    () => run("moco" as SslMethod),
    'pretrainContrastive: method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"',
  );
  assert(err instanceof RangeError && !err.message.includes("\n"));
  const m = nets("byol");
  await assertRejects(
    () =>
      pretrainContrastive({
        ...m,
        images: data.images,
        shape: SHAPE,
        indices,
        makeViews: noisyViews,
        rng: new Rng(5),
        config: { ...base, method: "barlow" },
      }),
    "barlow has no predictor",
  );
  m.dispose();
});

Deno.test("SimSiam and BYOL without a predictor train too (p = z), and say so in the checkpoint", async () => {
  await initBackend();
  const dir = await Deno.makeTempDir();
  try {
    const { result } = await run("simsiam", { epochs: 1 }, dir, { predictor: false });
    assert(Number.isFinite(result.history[0].loss));
    const settings = Checkpoint.open(dir).manifest.fingerprint.settings;
    assertEquals(settings.method, "simsiam");
    assertEquals(settings.predictor, "none");
    assertEquals(settings.temperature, undefined, "temperature is SimCLR's only");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BYOL and Barlow Twins on 2 workers equal one thread up to rounding", async () => {
  await initBackend();
  for (const method of ["byol", "barlow"] as const) {
    const extra = { epochs: 1, maxStepsPerEpoch: 2 };
    const one = await run(method, extra);
    const two = await run(method, { ...extra, workers: 2 });
    const rel = worstRelative([...two.backbone, ...two.head], [...one.backbone, ...one.head]);
    assert(rel < 1e-3, `${method}: 2 workers vs one thread differ by ${rel} (relative)`);
    assertAlmostEquals(
      two.result.history[0].loss,
      one.result.history[0].loss,
      1e-4 * Math.abs(one.result.history[0].loss),
      `${method}: loss`,
    );
  }
  assertEquals(SslWorkers.running, 0, "workers not terminated");
});
