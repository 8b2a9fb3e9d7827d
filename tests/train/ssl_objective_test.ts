import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { batchNorm } from "../../lib/models/batch_norm.ts";
import { emaUpdate, momentumTarget, tauAt } from "../../lib/train/momentum_target.ts";
import {
  objectiveLoss,
  objectiveLossRows,
  onlineOutputs,
  type SslObjective,
} from "../../lib/train/ssl_objective.ts";
import { parseSslMethod, SSL_METHODS } from "../../lib/train/ssl_method.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { randomArray } from "../numeric.ts";

const N = 6;
const D = 4;

function tensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(randomArray(rows * cols, seed), [rows, cols]);
}

/** Largest |value| of a tensor (disposed). */
function maxAbs(t: tf.Tensor): number {
  const v = Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

Deno.test("a method is one of five names; anything else is one line naming them", () => {
  assertEquals(SSL_METHODS, ["simclr", "byol", "simsiam", "barlow", "vicreg"]);
  assertEquals(parseSslMethod(" BYOL "), "byol");
  const err = assertThrows(
    () => parseSslMethod("moco"),
    'method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"',
  );
  assert(err instanceof RangeError && !err.message.includes("\n"));
  assertThrows(() => parseSslMethod(3, "configuration: method"), "configuration: method", "got 3");
});

Deno.test("SimSiam: no gradient reaches z through the stop-gradient, only p's columns get one", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const objective: SslObjective = { method: "simsiam", temperature: 1 };
  const outputs = tensor(2 * N, 2 * D, 1); // [z, p] side by side
  const grad = tf.grad((o: tf.Tensor) => objectiveLoss(objective, o as tf.Tensor2D))(outputs);
  const [dz, dp] = tf.split(grad, [D, D], 1);
  assertEquals(maxAbs(dz), 0, "gradient through stopgrad(z)");
  assert(maxAbs(dp) > 1e-4, "p gets a gradient");
  tf.dispose([outputs, grad]);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("BYOL: the loss sends no gradient to the momentum network's targets", async () => {
  await initBackend();
  const objective: SslObjective = { method: "byol", temperature: 1 };
  const p = tensor(2 * N, D, 2);
  const targets = tensor(2 * N, D, 3);
  const [dp, dt] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    objectiveLoss(objective, a as tf.Tensor2D, b as tf.Tensor2D)
  )([p, targets]);
  assertEquals(maxAbs(dt), 0, "gradient to the targets");
  assert(maxAbs(dp) > 1e-4, "p gets a gradient");
  assertThrows(() => objectiveLoss(objective, p), "BYOL needs the momentum network's targets");
  tf.dispose([p, targets]);
});

Deno.test("SimCLR's loss splits by anchor rows; the other methods' does not", async () => {
  await initBackend();
  const objective: SslObjective = { method: "simclr", temperature: 0.5 };
  const z = tensor(2 * N, D, 4);
  const whole = objectiveLoss(objective, z);
  const a = objectiveLossRows(objective, z, 0, 5);
  const b = objectiveLossRows(objective, z, 5, 2 * N);
  assertAlmostEquals(a.dataSync()[0] + b.dataSync()[0], whole.dataSync()[0], 1e-5);
  assertThrows(
    () => objectiveLossRows({ method: "barlow", temperature: 1 }, z, 0, 2),
    "does not split by rows",
  );
  tf.dispose([z, whole, a, b]);
});

Deno.test("the online outputs: z, p, or z and p side by side; p = z without a predictor", async () => {
  await initBackend();
  const backbone = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 5 })] });
  const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: D })] });
  const predictor = tf.sequential({ layers: [tf.layers.dense({ inputShape: [D], units: D })] });
  const x = tensor(2 * N, 3, 5);
  const widths = (["simclr", "byol", "simsiam", "barlow", "vicreg"] as const).map((m) => {
    const out = onlineOutputs(m, { backbone, head, predictor }, x);
    const w = out.shape[1];
    out.dispose();
    return w;
  });
  assertEquals(widths, [D, D, 2 * D, D, D]);
  const bare = onlineOutputs("simsiam", { backbone, head }, x);
  const [z, p] = tf.split(bare, [D, D], 1);
  assertEquals(maxAbs(tf.sub(z, p)), 0, "p = z without a predictor");
  tf.dispose([x, bare, z, p]);
  [backbone, head, predictor].forEach((m) => m.dispose());
});

Deno.test("BYOL's τ: 0.99 rising to 1 on a cosine, or fixed; a bad τ is refused", () => {
  assertEquals(tauAt(0, 100), 0.99);
  assertAlmostEquals(tauAt(50, 100), 0.995, 1e-12);
  assertEquals(tauAt(100, 100), 1);
  assertEquals(tauAt(50, 100, 0.9, "fixed"), 0.9);
  assertThrows(() => tauAt(0, 10, 1.5), "tau must be a number in [0, 1], got 1.5");
});

Deno.test("the EMA moves trained weights only; the target's moving statistics stay its own", async () => {
  await initBackend();
  const backbone = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 4, useBias: false }), batchNorm({})],
  });
  const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
  const target = await momentumTarget(backbone, head);
  const before = tf.memory().numTensors;
  const old = target.backbone.getWeights().map((w) => w.dataSync().slice());
  // Move the online weights (trained and moving statistics alike), then average.
  tf.tidy(() => backbone.weights.forEach((w) => w.write(tf.add(w.read(), 1))));
  emaUpdate(target, { backbone, head }, 0.9);
  assertEquals(tf.memory().numTensors, before, "tensors left by the update");
  const trained = backbone.weights.map((w) => w.trainable);
  assertEquals(trained, [true, true, true, false, false]); // kernel, gamma, beta, mean, variance
  target.backbone.getWeights().forEach((w, i) => {
    const now = Array.from(w.dataSync() as Float32Array);
    const moved = trained[i] ? 0.1 : 0; // 0.9·ξ + 0.1·(ξ + 1)
    now.forEach((v, j) => assertAlmostEquals(v, old[i][j] + moved, 1e-6, `weight ${i}`));
  });
  target.dispose();
  backbone.dispose();
  head.dispose();
});
