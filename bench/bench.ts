/**
 * `deno task bench`: throughput benchmarks after warm-up, one line per case,
 * e.g. `ssl_step wasm: 2134 views/s, 480 ms/step`.
 *
 * Cases: `augment digits` (per-image augmentation of 2 x 512 MNIST images, the
 * views of one step), `ssl_step <backend>` (one training step of the article's
 * CNN), `ssl_step <backend> article-bn` (its widths as conv → BatchNorm → ReLU
 * blocks with global average pooling: the line after it gives batch
 * normalisation's forward + backward and its share of the step),
 * `ssl_step <backend> resnet` (the same step of the small ResNet on
 * 32x32x3) and, right after the wasm ones, `ssl_step wasm [model] xN workers`
 * (each step data-parallel on N worker threads, `lib/train/parallel/`). Every
 * case prints where its time goes.
 *
 * Flags: `--quick` (fewer repetitions, and an eighth of the pairs on the slow
 * cpu and webgpu backends: 64 instead of 512 for the CNN, 16 instead of 128
 * for the ResNet, so software Vulkan finishes), `--backends wasm,cpu` (also
 * `webgpu`: `deno task bench --backends webgpu` times both models on the GPU
 * Deno sees), `--models
 * article,resnet`, `--workers N` (default one per core; 1 skips the parallel case).
 * `--help` lists them; a mistake is one line and exit code 2.
 *
 * @module
 */
import { autoWorkers, initBackend } from "../lib/backend.ts";
import { benchSslStep, SSL_STEP_PAIRS, type SslStepModel } from "./ssl_step.ts";
import { benchAugment } from "./augment.ts";
import { benchSslStepParallel } from "./ssl_step_parallel.ts";
import { type CommandSpec, integerFlag, listOf, parseFlags } from "../lib/cli/flags.ts";
import { BACKENDS } from "../lib/cli/common_flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";

/** The command's flags (`deno task bench --help`). */
export const BENCH_COMMAND = {
  name: "bench",
  usage: "deno task bench [flags]",
  summary: "Throughput after warm-up, one line per case: augmentation, one SSL training step " +
    "per backend, and the step data-parallel on worker threads.",
  flags: {
    quick: {
      type: "boolean",
      description: "fewer repetitions (and an eighth of the pairs on the cpu and webgpu backends)",
    },
    backends: {
      type: "string",
      value: "LIST",
      default: "wasm,cpu",
      description: `backends to time, comma-separated, of ${BACKENDS.join(", ")}`,
    },
    models: {
      type: "string",
      value: "LIST",
      default: "article,article-bn,resnet",
      description: "models whose step is timed: article (CNN, 28x28x1), article-bn (the CNN's " +
        "widths with batch normalisation, 28x28x1), resnet (32x32x3)",
    },
    workers: {
      type: "string",
      value: "N",
      default: String(autoWorkers()),
      description: "worker threads of the parallel case (default: one per core; 1 skips it)",
    },
  },
} as const satisfies CommandSpec;

const MODELS: readonly SslStepModel[] = ["article", "article-bn", "resnet"];

/** What each model is, in the case's line. */
const MODEL_LABELS: Record<SslStepModel, string> = {
  article: "article CNN + head",
  "article-bn": "article CNN widths, conv-BN-ReLU blocks, global average pooling + head",
  resnet: "ResNet (width 16, 3 stages) + head",
};

/** The case's suffix after the backend: nothing for the article CNN, else the model. */
const suffix = (model: SslStepModel) => (model === "article" ? "" : ` ${model}`);

const { quick, backends, models, workers } = exitOnUsage("bench", () => {
  const values = parseFlags(BENCH_COMMAND, Deno.args);
  return {
    quick: values.quick,
    backends: listOf("backends", values.backends, BACKENDS),
    models: listOf("models", values.models, MODELS),
    workers: integerFlag("workers", values.workers, 1),
  };
});

console.log(await benchAugment());

for (const name of backends) {
  const backend = await initBackend(name);
  const slow = backend === "cpu";
  // lavapipe (software WebGPU) is slower still than cpu on the ResNet: few repetitions there.
  const few = slow || backend === "webgpu";
  for (const model of models) {
    const pairs = SSL_STEP_PAIRS[model] / (few && quick ? 8 : 1);
    const r = await benchSslStep(pairs, few ? 1 : 2, few ? (quick ? 1 : 2) : quick ? 3 : 8, model);
    const what = MODEL_LABELS[model];
    console.log(
      `ssl_step ${r.backend}${suffix(model)}: ${r.viewsPerSecond.toFixed(0)} views/s, ${
        r.msPerStep.toFixed(0)
      } ms/step` +
        ` (batch ${r.pairs} pairs = ${2 * r.pairs} views, ${r.shape.join("x")}, ${what}, ` +
        `NT-Xent, Adam)`,
    );
    const parts = Object.entries(r.breakdown).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(
      ", ",
    );
    console.log(`  where the time goes (${r.backend}, ${model}): ${parts}`);
    const bn = r.breakdown["batch norm (fwd+bwd)"];
    if (bn !== undefined) {
      console.log(
        `  batch norm forward + backward: ${bn.toFixed(0)} ms, ${
          (100 * bn / r.msPerStep).toFixed(1)
        }% of the step`,
      );
    }
  }
  for (const model of backend === "wasm" && workers > 1 ? models : []) {
    const pairs = SSL_STEP_PAIRS[model];
    const reps = quick ? 3 : 8;
    const ref = await benchSslStep(pairs, 2, reps, model);
    const p = await benchSslStepParallel(pairs, 2, reps, workers, model);
    const name = `ssl_step wasm${suffix(model)} x${workers} workers`;
    console.log(
      `${name}: ${p.viewsPerSecond.toFixed(0)} views/s, ${p.msPerStep.toFixed(0)} ms/step ` +
        `(x${(ref.msPerStep / p.msPerStep).toFixed(2)} vs one thread; ` +
        `${navigator.hardwareConcurrency} cores)`,
    );
    const waits = Object.entries(p.breakdown).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ");
    console.log(`  where the main thread waits (${model}, x${workers} workers): ${waits}`);
  }
}
