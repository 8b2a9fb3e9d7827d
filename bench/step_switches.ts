/**
 * One SSL step with some of the wasm kernels' switches off ("before") and on ("now"), alternating
 * in one process round after round so that a shared machine's drift hits both; it prints each
 * round, the medians and their ratio. The switches ({@linkcode SWITCHES}) are the paths added for
 * issue 22 after the Winograd F(2x2, 3x3) kernels.
 *
 * ```sh
 * deno run -A bench/step_switches.ts [--rounds 5] [--models resnet] [--switches winograd4]
 * ```
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
import { benchSslStep, SSL_STEP_PAIRS, type SslStepModel } from "./ssl_step.ts";

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

if (import.meta.main) {
  const opts = exitOnUsage("step_switches", () => {
    const v = parseFlags(STEP_SWITCHES_COMMAND, Deno.args);
    return {
      rounds: integerFlag("rounds", v.rounds, 1),
      models: listOf("models", v.models, ["resnet", "article-bn", "article"] as SslStepModel[]),
      switches: listOf("switches", v.switches, Object.keys(SWITCHES)),
    };
  });
  await initBackend("wasm");
  console.log(
    `${new Date().toISOString()}, ${opts.rounds} rounds, one thread, switches ` +
      opts.switches.join(", "),
  );
  for (const model of opts.models) {
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
