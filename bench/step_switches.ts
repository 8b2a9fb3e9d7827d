/**
 * One SSL step with some of the wasm kernels' switches off ("before") and on ("now"), alternating
 * in one process round after round so that a shared machine's drift hits both; it prints each
 * round, the medians and their ratio. The switches ({@linkcode SWITCHES}) are the paths added for
 * issue 22 after the Winograd F(2x2, 3x3) kernels.
 *
 * ```sh
 * deno run -A bench/step_switches.ts [--rounds 5] [--models resnet] [--switches winograd4]
 * deno run -A bench/step_switches.ts --paired 40 --switches bnResidual  # step by step, one model
 * ```
 *
 * `--paired N` times N pairs of single steps of one model instead, the switches off for one step
 * and on for the next (the order alternating from pair to pair), and prints the medians and the
 * median and mean of the pairs' ratios with its standard error: a drift of the machine between
 * the two steps of a pair is seconds shorter than between two rounds, so small changes (1-2%)
 * stand out of a shared machine's noise.
 *
 * @example
 * ```ts
 * import { initBackend } from "../lib/backend.ts";
 * import { compareSwitches } from "./step_switches.ts";
 * await initBackend("wasm");
 * const r = await compareSwitches("article-bn", ["winograd4"], 1, 1, 1);
 * console.log(r.before / r.now); // the speed-up of the switches
 * ```
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { type CommandSpec, integerFlag, listOf, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { NARROW_MAT_MUL } from "../lib/kernels/batch_mat_mul_transposed_wasm.ts";
import { BIAS_RELU_FUSED } from "../lib/kernels/bias_relu_wasm.ts";
import { MAX_POOL_SIMD } from "../lib/kernels/max_pool_simd_wasm.ts";
import { CONV_PATHS } from "../lib/kernels/conv2d_paths_wasm.ts";
import { WINOGRAD4_INPUT } from "../lib/kernels/conv2d_winograd_f4_wasm.ts";
import { ADAM_FUSED } from "../lib/kernels/adam_wasm.ts";
import { MEAN_PIXELS_GRAD } from "../lib/kernels/mean_pixels_wasm.ts";
import { CONV_OUTPUT_MOMENTS } from "../lib/kernels/conv_output_moments_wasm.ts";
import { WINOGRAD4_FILTER_SIMD } from "../lib/kernels/winograd4_filter_transforms_wasm.ts";
import { BN_RESIDUAL_FUSED } from "../lib/kernels/batch_norm_wasm.ts";
import * as tf from "@tensorflow/tfjs";
import { ntXentLoss } from "../lib/loss/ntxent.ts";
import { benchSslStep, SSL_STEP_PAIRS, type SslStepModel, sslStepModels } from "./ssl_step.ts";

/** Each switch: how to set it on or off. */
export const SWITCHES: Readonly<Record<string, (on: boolean) => void>> = {
  /** Winograd's F(4x4, 3x3) for the forward pass and input gradient (else F(2x2, 3x3)). */
  winograd4: (on) => {
    CONV_PATHS.winograd4 = on;
  },
  /** Winograd's F(4x4, 3x3) for the filter gradient (else F(2x2, 3x3)). */
  winograd4FilterGrad: (on) => {
    CONV_PATHS.winograd4FilterGrad = on;
  },
  /** 1x1 convolutions and their gradients as matrix products (else XNNPACK, patches). */
  pointwise: (on) => {
    CONV_PATHS.pointwise = on;
  },
  /** F(4x4, 3x3)'s input transforms read "same" images straight (else from padded rows). */
  winograd4Direct: (on) => {
    WINOGRAD4_INPUT.direct = on;
  },
  /** Products with at most 16 columns on the right by `mat_mul_narrow_wasm.ts` (else XNNPACK). */
  narrowMatMul: (on) => {
    NARROW_MAT_MUL.enabled = on;
  },
  /** A convolution's bias and ReLU in one pass, their gradients in one (`bias_relu_wasm.ts`). */
  biasRelu: (on) => {
    BIAS_RELU_FUSED.enabled = on;
  },
  /** 2x2 stride-2 max pools on SIMD (`max_pool_simd_wasm.ts`; else the backend's). */
  maxPoolSimd: (on) => {
    MAX_POOL_SIMD.enabled = on;
  },
  /** Adam's update as one SIMD kernel call for every variable (`adam_wasm.ts`; else tfjs's). */
  adamFused: (on) => {
    ADAM_FUSED.enabled = on;
  },
  /** `Mean`'s gradient over pixels as copies (`mean_pixels_wasm.ts`; else tfjs's `ones` formula). */
  meanPixelsGrad: (on) => {
    MEAN_PIXELS_GRAD.enabled = on;
  },
  /** Batch norm's moments taken by the convolution as it stores its output (else a pass). */
  convMoments: (on) => {
    CONV_OUTPUT_MOMENTS.enabled = on;
  },
  /** F(4x4)'s filter transforms on SIMD (`winograd4_filter_transforms_wasm.ts`; else JavaScript). */
  winograd4FilterSimd: (on) => {
    WINOGRAD4_FILTER_SIMD.enabled = on;
  },
  /** A ResNet block's end, relu(BN(x) + residual), in BN's pass (else BN, add, ReLU: three). */
  bnResidual: (on) => {
    BN_RESIDUAL_FUSED.enabled = on;
  },
};

/** The command's flags (`--help`). */
export const STEP_SWITCHES_COMMAND = {
  name: "step_switches",
  usage: "deno run -A bench/step_switches.ts [flags]",
  summary: "SSL steps with kernel switches off and on, alternating, medians and ratio.",
  flags: {
    rounds: { type: "string", value: "N", default: "5", description: "alternations" },
    models: {
      type: "string",
      value: "LIST",
      default: "resnet",
      description: "resnet, article-bn, article",
    },
    paired: {
      type: "string",
      value: "N",
      default: "0",
      description: "N pairs of single steps of one model, off then on (0: rounds of whole runs)",
    },
    switches: {
      type: "string",
      value: "LIST",
      default: Object.keys(SWITCHES).join(","),
      description: `switches to turn off for "before": ${Object.keys(SWITCHES).join(", ")}`,
    },
  },
} as const satisfies CommandSpec;

/** Medians of the rounds, ms per step. */
export interface SwitchComparison {
  before: number;
  now: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `rounds` alternations of `model`'s step with `switches` off, then on (`pairs` positive pairs,
 * `reps` timed steps after 2 of warm-up); logs each round when `log` is given.
 */
export async function compareSwitches(
  model: SslStepModel,
  switches: string[],
  rounds: number,
  pairs = SSL_STEP_PAIRS[model],
  reps = 4,
  log?: (line: string) => void,
): Promise<SwitchComparison> {
  const before: number[] = [];
  const now: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const on of [false, true]) {
        for (const s of switches) SWITCHES[s](on);
        const res = await benchSslStep(pairs, 2, reps, model);
        (on ? now : before).push(res.msPerStep);
      }
      log?.(
        `  ${model} round ${r + 1}: before ${before[r].toFixed(1)} ms, now ${now[r].toFixed(1)}`,
      );
    }
  } finally {
    for (const s of switches) SWITCHES[s](true);
  }
  return { before: median(before), now: median(now) };
}

/** Medians of single steps and the pairs' ratios (off / on), of {@linkcode comparePaired}. */
export interface PairedComparison extends SwitchComparison {
  /** Median of the pairs' ratios. */
  medianRatio: number;
  /** Mean of the pairs' ratios and its standard error. */
  meanRatio: number;
  standardError: number;
}

/**
 * `pairs` pairs of single SSL steps of one `model` (built once, warmed up both ways), `switches`
 * off for one step and on for the other, the order alternating from pair to pair.
 */
export async function comparePaired(
  model: SslStepModel,
  switches: string[],
  pairs: number,
): Promise<PairedComparison> {
  const set = (on: boolean) => switches.forEach((s) => SWITCHES[s](on));
  const { backbone, head, shape } = sslStepModels(model);
  const optimizer = tf.train.adam(1e-3);
  const n = SSL_STEP_PAIRS[model];
  const views = tf.randomUniform([2 * n, ...shape], 0, 1, "float32", 7);
  const lossOf = () => {
    const z = head.apply(backbone.apply(views, { training: true }), { training: true });
    const [a, b] = tf.split(z as tf.Tensor2D, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  };
  const step = async (on: boolean) => {
    set(on);
    const t0 = performance.now();
    const loss = optimizer.minimize(lossOf, true)!;
    await loss.data();
    loss.dispose();
    return performance.now() - t0;
  };
  const before: number[] = [];
  const now: number[] = [];
  const ratios: number[] = [];
  try {
    for (const on of [false, true, false, true]) await step(on);
    for (let i = 0; i < pairs; i++) {
      const first = i % 2 === 1;
      const a = await step(first);
      const b = await step(!first);
      const [off, on] = first ? [b, a] : [a, b];
      before.push(off);
      now.push(on);
      ratios.push(off / on);
    }
  } finally {
    set(true);
    tf.dispose(views);
    backbone.dispose();
    head.dispose();
    optimizer.dispose();
  }
  const mean = ratios.reduce((s, r) => s + r, 0) / pairs;
  const variance = ratios.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, pairs - 1);
  return {
    before: median(before),
    now: median(now),
    medianRatio: median(ratios),
    meanRatio: mean,
    standardError: Math.sqrt(variance / pairs),
  };
}

if (import.meta.main) {
  const opts = exitOnUsage("step_switches", () => {
    const v = parseFlags(STEP_SWITCHES_COMMAND, Deno.args);
    return {
      rounds: integerFlag("rounds", v.rounds, 1),
      models: listOf("models", v.models, ["resnet", "article-bn", "article"] as SslStepModel[]),
      switches: listOf("switches", v.switches, Object.keys(SWITCHES)),
      paired: integerFlag("paired", v.paired, 0),
    };
  });
  await initBackend("wasm");
  console.log(
    `${new Date().toISOString()}, ${
      opts.paired > 0 ? `${opts.paired} pairs of steps` : `${opts.rounds} rounds`
    }, one thread, switches ` +
      opts.switches.join(", "),
  );
  for (const model of opts.paired > 0 ? opts.models : []) {
    const r = await comparePaired(model, opts.switches, opts.paired);
    console.log(
      `${model}: off ${r.before.toFixed(1)} ms/step, on ${r.now.toFixed(1)} (medians of ` +
        `${opts.paired} pairs of steps); the pairs' ratio: median x${r.medianRatio.toFixed(3)}, ` +
        `mean x${r.meanRatio.toFixed(3)} ± ${r.standardError.toFixed(3)}`,
    );
  }
  for (const model of opts.paired > 0 ? [] : opts.models) {
    const r = await compareSwitches(
      model,
      opts.switches,
      opts.rounds,
      undefined,
      undefined,
      console.log,
    );
    console.log(
      `${model}: before ${r.before.toFixed(1)} ms/step, now ${r.now.toFixed(1)}, ` +
        `x${(r.before / r.now).toFixed(3)}`,
    );
  }
}
