/**
 * The ResNet's SSL step (width 16, 3 stages, 128 pairs of 32x32x3 views, NT-Xent, Adam; the
 * `ssl_step wasm resnet` case) as it is and as it was before issue 22, alternating in one process
 * on the wasm backend, so that a shared machine's drift hits both:
 *
 * - **before**: every BN followed by a separate ReLU layer (the topology of
 *   `toStandardTopology` → `fromStandardTopology`: the same math, the layers of before
 *   2026-12-07), and tfjs's fused convolutions, whose gradient computes the images' gradient
 *   (`LAZY_CONV_GRADIENTS.enabled = false`);
 * - **now**: `resnetBackbone` as it is (BN + ReLU as one layer), no gradient of the images
 *   (`lib/kernels/conv2d_lazy_gradients_wasm.ts`).
 *
 * Both start from the same weights. It prints each round and the medians, and their ratio.
 *
 * ```sh
 * deno run -A bench/resnet_step.ts [--rounds 5]
 * ```
 *
 * @example
 * ```ts
 * import { initBackend } from "../lib/backend.ts";
 * import { compareResnetSteps } from "./resnet_step.ts";
 * await initBackend("wasm");
 * const r = await compareResnetSteps(1, 16); // 1 round, 16 pairs
 * console.log(r.before / r.now); // the speed-up
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend.ts";
import { type CommandSpec, integerFlag, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { LAZY_CONV_GRADIENTS } from "../lib/kernels/conv2d_lazy_gradients_wasm.ts";
import { ntXentLoss } from "../lib/loss/ntxent.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { resnetBackbone } from "../lib/models/resnet.ts";
import { fromStandardTopology, toStandardTopology } from "../lib/models/standard_layers.ts";

/** The command's flags (`--help`). */
export const RESNET_STEP_COMMAND = {
  name: "resnet_step",
  usage: "deno run -A bench/resnet_step.ts [flags]",
  summary: "The ResNet's SSL step before and after issue 22, alternating, medians.",
  flags: {
    rounds: { type: "string", value: "N", default: "5", description: "alternations" },
  },
} as const satisfies CommandSpec;

/** Medians of the rounds, ms per step. */
export interface ResnetStepComparison {
  before: number;
  now: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The ResNet with each BN + ReLU layer split into BN and a ReLU layer, same weights. */
async function splitModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = fromStandardTopology(toStandardTopology(model.toJSON(null, false) as object));
  const split = await tf.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelJSON["modelTopology"],
  });
  split.setWeights(model.getWeights());
  return split;
}

/** A step function: one SSL step of `backbone` + a head on `views`, awaited. */
function stepOf(backbone: tf.LayersModel, views: tf.Tensor): () => Promise<void> {
  const head = articleHead(64);
  const optimizer = tf.train.adam(1e-3);
  return async () => {
    const loss = optimizer.minimize(() => {
      const z = head.apply(backbone.apply(views, { training: true }), { training: true });
      const [a, b] = tf.split(z as tf.Tensor2D, 2, 0) as tf.Tensor2D[];
      return ntXentLoss(a, b, 0.5);
    }, true)!;
    await loss.data();
    loss.dispose();
  };
}

/** Times `rounds` alternations of 4 steps each (after 2 of warm-up), `pairs` pairs a step. */
export async function compareResnetSteps(
  rounds: number,
  pairs = 128,
  log: (line: string) => void = () => {},
): Promise<ResnetStepComparison> {
  const now = resnetBackbone({ inputShape: [32, 32, 3], width: 16, depth: 3, seed: 0 });
  const before = await splitModel(now);
  const views = tf.randomUniform([2 * pairs, 32, 32, 3], 0, 1, "float32", 7);
  const variants: [string, () => Promise<void>, boolean][] = [
    ["before", stepOf(before, views), false],
    ["now", stepOf(now, views), true],
  ];
  const ms: Record<string, number[]> = { before: [], now: [] };
  const lazy = LAZY_CONV_GRADIENTS.enabled;
  try {
    for (let r = 0; r < rounds; r++) {
      const line: string[] = [];
      for (const [name, step, lazyGradients] of variants) {
        LAZY_CONV_GRADIENTS.enabled = lazyGradients;
        if (r === 0) { for (let i = 0; i < 2; i++) await step(); }
        const t0 = performance.now();
        for (let i = 0; i < 4; i++) await step();
        ms[name].push((performance.now() - t0) / 4);
        line.push(`${name} ${ms[name][r].toFixed(0)}`);
      }
      log(`round ${r + 1} (ms/step): ${line.join(", ")}`);
    }
  } finally {
    LAZY_CONV_GRADIENTS.enabled = lazy;
    views.dispose();
    now.dispose();
    before.dispose();
  }
  return { before: median(ms.before), now: median(ms.now) };
}

if (import.meta.main) {
  const opts = exitOnUsage("resnet_step", () => {
    const v = parseFlags(RESNET_STEP_COMMAND, Deno.args);
    return { rounds: integerFlag("rounds", v.rounds, 1) };
  });
  await initBackend("wasm");
  console.log(`${new Date().toISOString()}, ${opts.rounds} rounds, one thread`);
  const r = await compareResnetSteps(opts.rounds, 128, console.log);
  console.log(
    `before ${r.before.toFixed(0)} ms/step, now ${r.now.toFixed(0)} ms/step: ` +
      `x${(r.before / r.now).toFixed(2)} (${(256000 / r.now).toFixed(0)} views/s)`,
  );
}
