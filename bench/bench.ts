/**
 * `deno task bench`: throughput benchmarks after warm-up, one line per case,
 * e.g. `ssl_step wasm: 2134 views/s, 480 ms/step`.
 *
 * Cases: `augment digits` (per-image augmentation of 2 x 512 MNIST images, the
 * views of one step) and `ssl_step <backend>` (one training step).
 *
 * Flags: `--quick` (fewer repetitions, and 64 pairs instead of 512 on the slow
 * cpu backend), `--backends wasm,cpu`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BackendName, initBackend } from "../lib/backend.ts";
import { benchSslStep } from "./ssl_step.ts";
import { benchAugment } from "./augment.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    backends: { type: "string", default: "wasm,cpu" },
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
}
