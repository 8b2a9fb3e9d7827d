/**
 * Our convolution kernels (`lib/kernels/conv2d_paths_wasm.ts`: Winograd's F(2x2, 3x3), the direct
 * SIMD convolution, the tiled filter gradient) against the paths they replace, in whole SSL
 * steps: each round times the step with all of them off (XNNPACK forward and input gradient, the
 * patches filter gradient), with the filter gradient alone, with the forward and input gradient
 * (direct kernel only; then with Winograd's), and all on (the default), alternating in one
 * process so that a shared machine's drift hits every variant; it prints the medians of the
 * rounds and each variant's ratio to "off".
 *
 * ```sh
 * deno run -A bench/conv_direct.ts [--rounds 3] [--models resnet,article-bn]
 * ```
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { type CommandSpec, integerFlag, listOf, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { CONV_PATHS } from "../lib/kernels/conv2d_paths_wasm.ts";
import { benchSslStep, SSL_STEP_PAIRS, type SslStepModel } from "./ssl_step.ts";

/** The command's flags (`--help`). */
export const CONV_DIRECT_COMMAND = {
  name: "conv_direct",
  usage: "deno run -A bench/conv_direct.ts [flags]",
  summary: "SSL steps with the direct SIMD convolution kernels off, each alone, and all on.",
  flags: {
    rounds: { type: "string", value: "N", default: "3", description: "alternations" },
    models: {
      type: "string",
      value: "LIST",
      default: "resnet",
      description: "resnet, article-bn, article",
    },
  },
} as const satisfies CommandSpec;

/** The variants, as the `CONV_PATHS` switches they set. */
export const VARIANTS: Readonly<Record<string, typeof CONV_PATHS>> = {
  off: {
    forward: false,
    inputGrad: false,
    filterGrad: false,
    winograd: false,
    winograd4: false,
    winograd4FilterGrad: false,
    pointwise: false,
    everyShape: false,
  },
  "filter gradient": {
    forward: false,
    inputGrad: false,
    filterGrad: true,
    winograd: false,
    winograd4: false,
    winograd4FilterGrad: false,
    pointwise: false,
    everyShape: false,
  },
  "forward + input gradient, direct only": {
    forward: true,
    inputGrad: true,
    filterGrad: false,
    winograd: false,
    winograd4: false,
    winograd4FilterGrad: false,
    pointwise: false,
    everyShape: false,
  },
  "forward + input gradient, Winograd": {
    forward: true,
    inputGrad: true,
    filterGrad: false,
    winograd: true,
    winograd4: false,
    winograd4FilterGrad: false,
    pointwise: false,
    everyShape: false,
  },
  "all on": {
    forward: true,
    inputGrad: true,
    filterGrad: true,
    winograd: true,
    winograd4: true,
    winograd4FilterGrad: true,
    pointwise: true,
    everyShape: false,
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (import.meta.main) {
  const opts = exitOnUsage("conv_direct", () => {
    const v = parseFlags(CONV_DIRECT_COMMAND, Deno.args);
    return {
      rounds: integerFlag("rounds", v.rounds, 1),
      models: listOf("models", v.models, ["resnet", "article-bn", "article"] as SslStepModel[]),
    };
  });
  await initBackend("wasm");
  console.log(`${new Date().toISOString()}, ${opts.rounds} rounds, one thread`);
  for (const model of opts.models) {
    const ms: Record<string, number[]> = {};
    for (let r = 0; r < opts.rounds; r++) {
      const line: string[] = [];
      for (const [name, flags] of Object.entries(VARIANTS)) {
        Object.assign(CONV_PATHS, flags);
        const res = await benchSslStep(SSL_STEP_PAIRS[model], 2, 4, model);
        (ms[name] ??= []).push(res.msPerStep);
        line.push(`${name} ${res.msPerStep.toFixed(0)}`);
      }
      console.log(`  ${model} round ${r + 1} (ms/step): ${line.join(", ")}`);
    }
    Object.assign(CONV_PATHS, VARIANTS["all on"]);
    const off = median(ms.off);
    for (const name of Object.keys(VARIANTS)) {
      const m = median(ms[name]);
      console.log(
        `${model}, ${name}: ${m.toFixed(0)} ms/step, ` +
          `${(2 * SSL_STEP_PAIRS[model] / m * 1000).toFixed(0)} views/s, x${(off / m).toFixed(2)}`,
      );
    }
  }
}
