/**
 * Micro-benchmark of the wasm conv filter gradient
 * (`lib/kernels/conv2d_backprop_filter_wasm.ts`): its two paths, the XNNPACK
 * convolution and the patches product on WebAssembly SIMD, timed alternately
 * in one process on the conv layers of the article CNN (batch 1,024 views)
 * and of the small ResNet (batch 256 views), one line per layer with the
 * ratio. With `--ssl-step`, also the whole `ssl_step wasm` case
 * (`bench/ssl_step.ts`) with the kernel forced to each path in turn.
 *
 * ```sh
 * deno run -A bench/conv_filter_grad.ts [--reps 5] [--ssl-step] [--rounds 2]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/backend.ts";
import {
  conv2dBackpropFilterWasm,
  conv2dBackpropFilterWasmConfig,
  type FilterGradPath,
} from "../lib/kernels/conv2d_backprop_filter_wasm.ts";
import { type CommandSpec, integerFlag, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { benchSslStep } from "./ssl_step.ts";

/** The command's flags (`--help`). */
export const CONV_FILTER_GRAD_COMMAND = {
  name: "conv_filter_grad",
  usage: "deno run -A bench/conv_filter_grad.ts [flags]",
  summary: "The wasm conv filter gradient's two paths, alternating, on the article CNN's and " +
    "the ResNet's layers; optionally the ssl_step case with each path.",
  flags: {
    reps: { type: "string", value: "N", default: "5", description: "timed calls per path" },
    "ssl-step": {
      type: "boolean",
      description: "also time ssl_step wasm (512 pairs) with the kernel forced to each path",
    },
    rounds: {
      type: "string",
      value: "N",
      default: "2",
      description: "alternations of the two paths in --ssl-step",
    },
  },
} as const satisfies CommandSpec;

/** One layer's filter gradient: input, filter, stride, padding. */
export interface FilterGradCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: "valid" | "same";
}

/** The article CNN's three conv layers (1,024 views) and the ResNet's kinds of conv (256). */
export const CASES: FilterGradCase[] = [
  { name: "article conv1", x: [1024, 28, 28, 1], filter: [3, 3, 1, 16], stride: 1, pad: "valid" },
  { name: "article conv2", x: [1024, 13, 13, 16], filter: [3, 3, 16, 16], stride: 1, pad: "valid" },
  { name: "article conv3", x: [1024, 5, 5, 16], filter: [3, 3, 16, 32], stride: 1, pad: "valid" },
  { name: "resnet stem", x: [256, 32, 32, 3], filter: [3, 3, 3, 16], stride: 1, pad: "same" },
  { name: "resnet 3x3 w16", x: [256, 32, 32, 16], filter: [3, 3, 16, 16], stride: 1, pad: "same" },
  {
    name: "resnet 3x3 s2 w32",
    x: [256, 32, 32, 16],
    filter: [3, 3, 16, 32],
    stride: 2,
    pad: "same",
  },
  {
    name: "resnet 1x1 s2 w32",
    x: [256, 32, 32, 16],
    filter: [1, 1, 16, 32],
    stride: 2,
    pad: "same",
  },
  { name: "resnet 3x3 w32", x: [256, 16, 16, 32], filter: [3, 3, 32, 32], stride: 1, pad: "same" },
  {
    name: "resnet 3x3 s2 w64",
    x: [256, 16, 16, 32],
    filter: [3, 3, 32, 64],
    stride: 2,
    pad: "same",
  },
  {
    name: "resnet 1x1 s2 w64",
    x: [256, 16, 16, 32],
    filter: [1, 1, 32, 64],
    stride: 2,
    pad: "same",
  },
  { name: "resnet 3x3 w64", x: [256, 8, 8, 64], filter: [3, 3, 64, 64], stride: 1, pad: "same" },
];

/** Milliseconds per call of each path on `c`, alternating the paths call by call. */
export function timePaths(
  c: FilterGradCase,
  reps: number,
): Record<"patches" | "convolution", number> {
  const backend = tf.backend() as unknown as BackendWasm;
  const x = tf.randomNormal(c.x, 0, 1, "float32", 1);
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.stride, 1, c.pad);
  const dy = tf.randomNormal(
    [c.x[0], info.outHeight, info.outWidth, c.filter[3]],
    0,
    1,
    "float32",
    2,
  );
  const attrs = { filterShape: c.filter, strides: c.stride, pad: c.pad, dataFormat: "NHWC" };
  const run = (path: FilterGradPath) => {
    const t0 = performance.now();
    const out = conv2dBackpropFilterWasm(
      { inputs: { x, dy }, backend, attrs: attrs as unknown as tf.NamedAttrMap },
      path,
    );
    const ms = performance.now() - t0;
    backend.disposeData(out.dataId);
    return ms;
  };
  const ms = { convolution: 0, patches: 0 };
  run("convolution"); // warm-up (and XNNPACK set-up)
  run("patches");
  for (let i = 0; i < reps; i++) {
    for (const path of ["convolution", "patches"] as const) ms[path] += run(path) / reps;
  }
  tf.dispose([x, dy]);
  return ms;
}

/** Registers the wasm filter-gradient kernel, forced to `path` (or choosing, when undefined). */
function useFilterGradPath(path: FilterGradPath | undefined): void {
  tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  tf.registerKernel({
    ...conv2dBackpropFilterWasmConfig,
    kernelFunc: ((args: Parameters<typeof conv2dBackpropFilterWasm>[0]) =>
      conv2dBackpropFilterWasm(args, path)) as unknown as tf.KernelFunc,
  });
}

if (import.meta.main) {
  const { reps, sslStep, rounds } = exitOnUsage("conv_filter_grad", () => {
    const values = parseFlags(CONV_FILTER_GRAD_COMMAND, Deno.args);
    return {
      reps: integerFlag("reps", values.reps, 1),
      sslStep: values["ssl-step"],
      rounds: integerFlag("rounds", values.rounds, 1),
    };
  });
  await initBackend("wasm");
  let before = 0, after = 0;
  for (const c of CASES) {
    const ms = timePaths(c, reps);
    before += c.name.startsWith("article") ? ms.convolution : 0;
    after += c.name.startsWith("article") ? ms.patches : 0;
    console.log(
      `${c.name} x[${c.x}] f[${c.filter}] stride ${c.stride} ${c.pad}: convolution ${
        ms.convolution.toFixed(1)
      } ms, patches ${ms.patches.toFixed(1)} ms (x${(ms.convolution / ms.patches).toFixed(2)})`,
    );
  }
  console.log(
    `article CNN, 3 layers: convolution ${before.toFixed(1)} ms, patches ${after.toFixed(1)} ms ` +
      `(x${(before / after).toFixed(2)})`,
  );
  if (sslStep) {
    const views: Record<"convolution" | "patches", number[]> = { convolution: [], patches: [] };
    for (let round = 0; round < rounds; round++) {
      for (const path of ["convolution", "patches"] as const) {
        useFilterGradPath(path);
        const r = await benchSslStep(512, 2, 8);
        views[path].push(r.viewsPerSecond);
        console.log(
          `ssl_step wasm, filter gradient by ${path}: ${r.viewsPerSecond.toFixed(0)} views/s, ` +
            `${r.msPerStep.toFixed(0)} ms/step (filter gradient ${
              r.breakdown["filter gradient"].toFixed(0)
            } ms)`,
        );
      }
    }
    useFilterGradPath(undefined);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `ssl_step wasm: ${mean(views.convolution).toFixed(0)} -> ${
        mean(views.patches).toFixed(0)
      } views/s (x${(mean(views.patches) / mean(views.convolution)).toFixed(2)})`,
    );
  }
}
