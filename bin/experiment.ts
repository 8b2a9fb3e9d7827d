/**
 * `deno task experiment`: the article's experiment without Jupyter.
 *
 * Flags: `--dataset mnist | fashion-mnist | folder:<path>`, `--labels N`,
 * `--seeds a,b,c`, `--quick`, `--out FILE` (results JSON), `--epochs N`
 * (pre-training epochs), `--temperature T`, `--backend wasm|cpu`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { initBackend } from "../lib/backend.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { fullRecipe, quickRecipe } from "../lib/experiment/recipe.ts";
import { runSeed, type SeedResult } from "../lib/experiment/run_seed.ts";
import { resultsTable, toResults } from "../lib/experiment/report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "mnist" },
    labels: { type: "string" },
    seeds: { type: "string" },
    quick: { type: "boolean", default: Deno.env.get("SSL_QUICK") === "1" },
    out: { type: "string" },
    epochs: { type: "string" },
    temperature: { type: "string" },
    backend: { type: "string", default: "wasm" },
  },
});

function fail(message: string): never {
  console.error(`experiment: ${message}`);
  Deno.exit(2);
}

const config = values.quick ? quickRecipe(values.dataset) : fullRecipe(values.dataset);
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
};
if (values.labels !== undefined) {
  config.labels = int("labels", values.labels);
  config.validation = Math.round(config.labels * 0.2);
}
if (values.seeds !== undefined) {
  config.seeds = values.seeds.split(",").map((s) => int("seeds", s.trim()));
}
if (values.epochs !== undefined) config.pretrain.epochs = int("epochs", values.epochs);
if (values.temperature !== undefined) {
  const t = Number(values.temperature);
  if (!(t > 0)) fail(`--temperature must be a positive number, got "${values.temperature}"`);
  config.pretrain.temperature = t;
}

const t0 = performance.now();
const backend = await initBackend(values.backend as "wasm" | "cpu");
let data;
try {
  data = await loadDataset(config.dataset);
} catch (e) {
  fail((e as Error).message);
}
console.log(
  `experiment: ${config.dataset}, ${config.labels} labels (${config.validation} for validation), ` +
    `seeds ${config.seeds.join(",")}, ${config.quick ? "quick" : "full"} mode, backend ${backend}`,
);
const results: SeedResult[] = [];
for (const seed of config.seeds) {
  try {
    results.push(await runSeed(config, data, seed, (m) => console.log(m)));
  } catch (e) {
    fail(`seed ${seed}: ${(e as Error).message}`);
  }
  console.log(`seed ${seed} done in ${(results.at(-1)!.timing.total / 60).toFixed(1)} min`);
}
const summary = toResults(config, results, backend, (performance.now() - t0) / 1000);
console.log();
console.log(resultsTable(summary));
console.log(
  `\ntotal ${(summary.timing_s.total / 60).toFixed(1)} min, pre-training ${
    (summary.timing_s.pretrain / 60).toFixed(1)
  } min`,
);
if (values.out) {
  writeFileSync(values.out, JSON.stringify(summary, null, 2));
  console.log(`results written to ${values.out}`);
}
