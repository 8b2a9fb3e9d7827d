/**
 * Benchmark case: the SSL training step of `ssl_step.ts` (article CNN + head,
 * 28x28x1, its batch-normalised variant, or the ResNet + head, 32x32x3; NT-Xent,
 * Adam) run data-parallel on worker threads by `SslWorkers`
 * (`lib/train/parallel/`), timed after warm-up, with where the main thread
 * waited. tfjs's wasm backend uses one core; each worker brings another.
 *
 * @example
 * ```ts
 * const r = await benchSslStepParallel(512, 2, 8, 2);
 * console.log(`${r.viewsPerSecond.toFixed(0)} views/s`);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../lib/rng.ts";
import { type SslStepModel, sslStepModels } from "./ssl_step.ts";
import { SslWorkers } from "../lib/train/parallel/ssl_workers.ts";

/** Result of `benchSslStepParallel`. */
export interface SslStepParallelResult {
  /** Worker threads used. */
  workers: number;
  /** Positive pairs per step (2x as many views). */
  pairs: number;
  /** Mean wall time of one step. */
  msPerStep: number;
  /** Views trained on per second. */
  viewsPerSecond: number;
  /** Milliseconds per step the main thread spent waiting for / doing each phase. */
  breakdown: Record<string, number>;
}

/**
 * What every parallel-step bench builds: `model`'s backbone and head, an Adam optimiser, `pairs`
 * pairs of seeded random views, the worker pool's options, and `dispose` for the models and the
 * optimiser (the pools are the caller's to dispose).
 */
export function parallelStepBench(model: SslStepModel, pairs: number) {
  const { backbone, head, shape } = sslStepModels(model);
  const optimizer = tf.train.adam(1e-3);
  const rng = new Rng(7);
  const views = new Float32Array(2 * pairs * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < views.length; i++) views[i] = rng.next();
  return {
    views,
    poolOptions: (workers: number) => ({
      backbone,
      head,
      shape,
      temperature: 0.5,
      optimizer,
      workers,
    }),
    dispose: () => {
      backbone.dispose();
      head.dispose();
      optimizer.dispose();
    },
  };
}

/** Times one data-parallel SSL step of `model` with `pairs` positive pairs on `workers` workers. */
export async function benchSslStepParallel(
  pairs: number,
  warmup: number,
  reps: number,
  workers: number,
  model: SslStepModel = "article",
): Promise<SslStepParallelResult> {
  const bench = parallelStepBench(model, pairs);
  const views = bench.views;
  const par = await SslWorkers.create(bench.poolOptions(workers));
  try {
    for (let i = 0; i < warmup; i++) await par.step(views, pairs);
    const before = par.timings;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await par.step(views, pairs);
    const msPerStep = (performance.now() - t0) / reps;
    const after = par.timings;
    const per = (k: Exclude<keyof typeof after, "steps">) => (after[k] - before[k]) / reps;
    return {
      workers,
      pairs,
      msPerStep,
      viewsPerSecond: (2 * pairs) / (msPerStep / 1000),
      breakdown: {
        "publish weights + views": per("publish"),
        forward: per("forward"),
        "loss (split)": per("loss"),
        backward: per("backward"),
        "sum + optimizer": per("optimizer"),
      },
    };
  } finally {
    par.dispose();
    bench.dispose();
  }
}
