/**
 * `deno task ablation`: the projection-head study (see lib/experiment/ablation.ts).
 *
 * Flags: `--part heads,temperature,labels` (default all), `--seeds a,b,c`
 * (default 0,1,2; quick 0,1), `--epochs N` and `--batch-size N` (the SSL budget
 * of every pre-training run), `--dataset mnist | fashion-mnist | folder:<path>`,
 * `--quick` (or `SSL_QUICK=1`), `--out FILE` (results JSON), `--backend wasm|cpu`,
 * `--cache-dir DIR` (store every finished run there; a rerun with the same
 * settings resumes instead of starting over).
 * Prints the tables and the wall time.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { initBackend } from "../lib/backend.ts";
import { loadDataset, type TrainTest } from "../lib/data/load_dataset.ts";
import { fullAblation, parseParts, quickAblation } from "../lib/experiment/ablation_recipe.ts";
import { runAblation } from "../lib/experiment/ablation.ts";
import { ablationTables } from "../lib/experiment/ablation_report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "mnist" },
    part: { type: "string", default: "heads,temperature,labels" },
    seeds: { type: "string" },
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    quick: { type: "boolean", default: Deno.env.get("SSL_QUICK") === "1" },
    out: { type: "string" },
    backend: { type: "string", default: "wasm" },
    "cache-dir": { type: "string" },
  },
});

function fail(message: string): never {
  console.error(`ablation: ${message}`);
  Deno.exit(2);
}

const int = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};

const t0 = performance.now();
let parts;
try {
  parts = parseParts(values.part);
} catch (e) {
  fail((e as Error).message);
}
const backend = await initBackend(values.backend as "wasm" | "cpu");
let data: TrainTest;
try {
  data = await loadDataset(values.dataset);
} catch (e) {
  fail((e as Error).message);
}
const train = values.dataset.startsWith("folder:") ? data.train : undefined;
const config = values.quick
  ? quickAblation(values.dataset, train)
  : fullAblation(values.dataset, train);
config.parts = parts;
if (values.seeds !== undefined) {
  config.seeds = values.seeds.split(",").map((s) => int("seeds", s.trim(), 0));
}
if (values.epochs !== undefined) config.pretrain.epochs = int("epochs", values.epochs, 1);
if (values["batch-size"] !== undefined) {
  config.pretrain.batchSize = int("batch-size", values["batch-size"], 2);
}
console.log(
  `ablation: ${config.dataset}, parts ${config.parts.join(",")}, seeds ${
    config.seeds.join(",")
  }, ` +
    `${config.quick ? "quick" : "full"} mode, SSL budget ${config.pretrain.epochs} epoch(s) at ` +
    `batch ${config.pretrain.batchSize}, backend ${backend}`,
);
let results;
try {
  results = await runAblation(config, data, (m) => console.log(m), backend, values["cache-dir"]);
} catch (e) {
  fail((e as Error).message);
}
console.log();
console.log(ablationTables(results));
const wall = (performance.now() - t0) / 1000;
console.log(
  `\nwall time ${(wall / 60).toFixed(1)} min (pre-training ${
    (results.timing_s.pretrain / 60).toFixed(1)
  } min; heads ${(results.timing_s.heads / 60).toFixed(1)}, temperature ${
    (results.timing_s.temperature / 60).toFixed(1)
  }, labels ${(results.timing_s.labels / 60).toFixed(1)} min)`,
);
if (values.out) {
  writeFileSync(values.out, JSON.stringify({ ...results, wall_s: wall }, null, 2));
  console.log(`results written to ${values.out}`);
}
