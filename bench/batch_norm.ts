/**
 * Our batch normalisation against tfjs's own `BatchNormalization` layer, both in training mode,
 * on the wasm backend: `deno run -A bench/batch_norm.ts [--rounds N]`.
 *
 * The model is the `article-bn` bench model (`ssl_step.ts`: conv → BN → ReLU → max-pool blocks
 * of 16, 16, 32 channels, global average pooling, head; one SSL step on 512 pairs of 28x28x1
 * views, NT-Xent, Adam), with our `BatchNorm` or tfjs's layer in its place. Each round measures,
 * one after the other (the machine may be shared: read ratios of neighbouring measurements):
 *
 * 1. the step with our BN, and in one profiled step the time of our BN's kernels
 *    (`SslChannelMoments`, `SslChannelAffine`, `SslChannelGradSums`, `SslChannelGradInput`):
 *    BN's forward + backward inside the step;
 * 2. the step with tfjs's BN; its BN's time is estimated as the difference of the two steps
 *    plus ours (the models are otherwise the same);
 * 3. each layer's forward + backward alone on the step's three BN inputs (`[1024, 28, 28, 16]`,
 *    `[1024, 14, 14, 16]`, `[1024, 7, 7, 32]`): `d/d(x, gamma, beta) Σ w · bn(x)`, less the same
 *    without BN.
 *
 * It prints the medians over the rounds, each BN's share of its step, and the ratios.
 *
 * @example
 * ```ts
 * import { benchBatchNorm } from "./batch_norm.ts";
 * const r = await benchBatchNorm(1, 64); // 1 round, 64 pairs
 * console.log(r.ours.share, r.tfjs.share);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend.ts";
import { ntXentLoss } from "../lib/loss/ntxent.ts";
import { batchNorm } from "../lib/models/batch_norm.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { articleBnBackbone } from "./ssl_step.ts";
import {
  CHANNEL_AFFINE,
  CHANNEL_GRAD_INPUT,
  CHANNEL_GRAD_SUMS,
  CHANNEL_MOMENTS,
} from "../lib/kernels/batch_norm_wasm.ts";
import { type CommandSpec, integerFlag, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";

/** The command's flags (`deno run -A bench/batch_norm.ts --help`). */
export const BATCH_NORM_BENCH_COMMAND = {
  name: "batch_norm",
  usage: "deno run -A bench/batch_norm.ts [--rounds N]",
  summary: "Our BatchNorm against tfjs's BatchNormalization in training mode, on wasm: " +
    "alternating rounds, medians.",
  flags: {
    rounds: { type: "string", value: "N", default: "3", description: "alternating rounds" },
  },
} as const satisfies CommandSpec;

/** One implementation's medians. */
export interface BatchNormTiming {
  /** One SSL step of the article-bn model, ms. */
  stepMs: number;
  /**
   * BN's forward + backward inside the step, ms: ours from its kernels' profile, tfjs's as
   * `its step - our step + ours`.
   */
  inStepMs: number;
  /** `inStepMs / stepMs`. */
  share: number;
  /** The BN layers' forward + backward alone on the step's three shapes, ms. */
  aloneMs: number;
}

/** Result of {@linkcode benchBatchNorm}. */
export interface BatchNormBench {
  ours: BatchNormTiming;
  tfjs: BatchNormTiming;
  rounds: number;
  pairs: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Milliseconds of one call of `f` (its tensors read, then disposed), after one warm-up call. */
async function timed(f: () => tf.Tensor[], reps: number): Promise<number> {
  const once = async () => {
    const out = f();
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
  };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await once();
  return (performance.now() - t0) / reps;
}

/** A step function of the article-bn model with our BN or tfjs's, and its disposal. */
function stepOf(tfjsBatchNorm: boolean, views: tf.Tensor4D, pairs: number) {
  const backbone = articleBnBackbone(tfjsBatchNorm);
  const head = articleHead(32);
  const optimizer = tf.train.adam(1e-3);
  const step = () => [
    optimizer.minimize(() => {
      const h = backbone.apply(views, { training: true }) as tf.Tensor;
      const z = head.apply(h, { training: true }) as tf.Tensor2D;
      const [a, b] = tf.split(z, [pairs, pairs], 0) as tf.Tensor2D[];
      return ntXentLoss(a, b, 0.5);
    }, true)!,
  ];
  const dispose = () => {
    backbone.dispose();
    head.dispose();
    optimizer.dispose();
  };
  return { step, dispose };
}

/** Forward + backward of one BN layer (ours or tfjs's; none: the rest alone) on `shape`. */
function layerGrad(kind: "ours" | "tfjs" | "none", shape: number[]) {
  const c = shape[shape.length - 1];
  const x = tf.variable(tf.randomNormal(shape, 0, 1, "float32", 1));
  const w = tf.randomNormal(shape, 0, 1, "float32", 2);
  const layer = kind === "ours"
    ? batchNorm({})
    : kind === "tfjs"
    ? tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 })
    : undefined;
  layer?.build(shape);
  const vars = [x, ...(layer?.trainableWeights.map((v) => v.read() as tf.Variable) ?? [])];
  const run = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const y = layer ? layer.apply(x, { training: true }) as tf.Tensor : x;
        return tf.sum(tf.mul(y, w)) as tf.Scalar;
      }, vars);
      return [value, ...Object.values(grads)];
    });
  const dispose = () => {
    tf.dispose([x, w]);
    layer?.weights.forEach((v) => v.dispose()); // never applied to a symbolic input: no dispose()
  };
  return { run, dispose, c };
}

/** Milliseconds our BN's kernels took in one profiled run of `step`. */
async function ourKernelsMs(step: () => tf.Tensor[]): Promise<number> {
  const names = new Set([CHANNEL_MOMENTS, CHANNEL_AFFINE, CHANNEL_GRAD_SUMS, CHANNEL_GRAD_INPUT]);
  const profile = await tf.profile(() => step()[0]);
  tf.dispose(profile.result as tf.Tensor);
  return profile.kernels.filter((k) => names.has(k.name))
    .reduce((s, k) => s + (typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0), 0);
}

/** `rounds` alternating rounds of ours and tfjs's BN (see the module doc). */
export async function benchBatchNorm(rounds = 3, pairs = 512): Promise<BatchNormBench> {
  const views = tf.randomUniform([2 * pairs, 28, 28, 1], 0, 1, "float32", 7) as tf.Tensor4D;
  const rows = 2 * pairs;
  const shapes = [[rows, 28, 28, 16], [rows, 14, 14, 16], [rows, 7, 7, 32]];
  const empty = () => ({ step: [] as number[], inStep: [] as number[], alone: [] as number[] });
  const samples = { ours: empty(), tfjs: empty() };
  const alone = async (kind: "ours" | "tfjs") => {
    let ms = 0;
    for (const shape of shapes) {
      const a = layerGrad(kind, shape);
      const none = layerGrad("none", shape);
      ms += (await timed(a.run, 2)) - (await timed(none.run, 2));
      a.dispose();
      none.dispose();
    }
    return ms;
  };
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
  for (let r = 0; r < rounds; r++) {
    const ours = stepOf(false, views, pairs);
    const oursMs = await timed(ours.step, 2);
    const oursBn = await ourKernelsMs(ours.step);
    ours.dispose();
    const theirs = stepOf(true, views, pairs);
    const theirsMs = await timed(theirs.step, 2);
    theirs.dispose();
    samples.ours.step.push(oursMs);
    samples.ours.inStep.push(oursBn);
    samples.tfjs.step.push(theirsMs);
    samples.tfjs.inStep.push(theirsMs - oursMs + oursBn);
    samples.ours.alone.push(await alone("ours"));
    samples.tfjs.alone.push(await alone("tfjs"));
  }
  views.dispose();
  const summary = (k: "ours" | "tfjs"): BatchNormTiming => {
    const stepMs = median(samples[k].step);
    const inStepMs = median(samples[k].inStep);
    return { stepMs, inStepMs, share: inStepMs / stepMs, aloneMs: median(samples[k].alone) };
  };
  return { ours: summary("ours"), tfjs: summary("tfjs"), rounds, pairs };
}

if (import.meta.main) {
  const { rounds } = exitOnUsage("batch_norm", () => {
    const values = parseFlags(BATCH_NORM_BENCH_COMMAND, Deno.args);
    return { rounds: integerFlag("rounds", values.rounds, 1) };
  });
  await initBackend("wasm");
  const r = await benchBatchNorm(rounds);
  const line = (t: BatchNormTiming) =>
    `step ${t.stepMs.toFixed(0)} ms, BN forward + backward ${t.inStepMs.toFixed(0)} ms in the ` +
    `step (${(100 * t.share).toFixed(1)}%), ${t.aloneMs.toFixed(0)} ms alone`;
  console.log(`article-bn SSL step, ${r.pairs} pairs, wasm, medians of ${r.rounds} rounds:`);
  console.log(`  ours (BatchNorm):          ${line(r.ours)}`);
  console.log(`  tfjs's BatchNormalization: ${line(r.tfjs)}`);
  console.log(
    `  tfjs / ours: step x${(r.tfjs.stepMs / r.ours.stepMs).toFixed(2)}, BN in the step x${
      (r.tfjs.inStepMs / r.ours.inStepMs).toFixed(1)
    }, BN alone x${(r.tfjs.aloneMs / r.ours.aloneMs).toFixed(1)}`,
  );
}
