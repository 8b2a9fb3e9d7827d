/**
 * `deno task bench`: throughput benchmarks after warm-up, one line per case,
 * e.g. `ssl_step wasm: 2134 views/s, 480 ms/step`.
 *
 * Cases: `augment digits` (per-image augmentation of 2 x 512 MNIST images, the
 * views of one step), `ssl_step <backend>` (one training step) and, right after
 * the wasm one, `ssl_step wasm xN workers` (the same step data-parallel on N
 * worker threads, `lib/train/parallel/`).
 *
 * Flags: `--quick` (fewer repetitions, and 64 pairs instead of 512 on the slow
 * cpu backend), `--backends wasm,cpu`, `--workers N` (default 2; 1 skips the
 * parallel case).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BackendName, initBackend } from "../lib/backend.ts";
import { benchSslStep } from "./ssl_step.ts";
import { benchAugment } from "./augment.ts";
import { benchSslStepParallel } from "./ssl_step_parallel.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    backends: { type: "string", default: "wasm,cpu" },
    workers: { type: "string", default: "2" },
  },
});
const quick = values.quick;

console.log(await benchAugment());

for (const name of values.backends.split(",") as BackendName[]) {
  const backend = await initBackend(name);
  const slow = backend === "cpu";
  const pairs = slow && quick ? 64 : 512;
  const r = await benchSslStep(pairs, slow ? 1 : 2, slow ? 1 : quick ? 3 : 8);
  console.log(
    `ssl_step ${r.backend}: ${r.viewsPerSecond.toFixed(0)} views/s, ${
      r.msPerStep.toFixed(0)
    } ms/step` +
      ` (batch ${r.pairs} pairs = ${
        2 * r.pairs
      } views, 28x28x1, article CNN + head, NT-Xent, Adam)`,
  );
  const parts = Object.entries(r.breakdown).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ");
  console.log(`  where the time goes (${r.backend}): ${parts}`);
  const workers = Number(values.workers);
  if (backend === "wasm" && workers > 1) {
    const p = await benchSslStepParallel(pairs, 2, quick ? 3 : 8, workers);
    console.log(
      `ssl_step wasm x${workers} workers: ${p.viewsPerSecond.toFixed(0)} views/s, ${
        p.msPerStep.toFixed(0)
      } ms/step (x${(r.msPerStep / p.msPerStep).toFixed(2)} vs ssl_step wasm above; ` +
        `${navigator.hardwareConcurrency} cores)`,
    );
    const waits = Object.entries(p.breakdown).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ");
    console.log(`  where the main thread waits (x${workers} workers): ${waits}`);
  }
}
