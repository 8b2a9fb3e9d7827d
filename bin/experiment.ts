/**
 * `deno task experiment`: the article's experiment without Jupyter.
 *
 * Flags: `--dataset mnist | fashion-mnist | folder:<path>`, `--labels N`,
 * `--seeds a,b,c`, `--quick`, `--out FILE` (results JSON), `--epochs N`
 * (pre-training epochs), `--temperature T`, `--backend wasm|cpu`.
 * For `folder:` datasets also `--size 32` or `--size HxW`, `--channels 1|3`,
 * `--fit crop|pad` and `--cache-dir DIR|none` (see `lib/data/image_folder.ts`);
 * the recipe follows the data (`recipeFor` in `lib/experiment/recipe.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { initBackend } from "../lib/backend.ts";
import { loadDataset, type LoadDatasetOptions, type TrainTest } from "../lib/data/load_dataset.ts";
import { formatReport } from "../lib/data/image_folder.ts";
import { checkLabelBudget, recipeFor } from "../lib/experiment/recipe.ts";
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
    size: { type: "string" },
    channels: { type: "string" },
    fit: { type: "string" },
    "cache-dir": { type: "string" },
  },
});

function fail(message: string): never {
  console.error(`experiment: ${message}`);
  Deno.exit(2);
}

const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
};
const dataset = values.dataset;
const isFolder = dataset.startsWith("folder:");
const folderOptions: LoadDatasetOptions = {};
for (const flag of ["size", "channels", "fit", "cache-dir"] as const) {
  if (values[flag] !== undefined && !isFolder) {
    fail(`--${flag} applies to folder:<path> datasets only, not to "${dataset}"`);
  }
}
if (values.size !== undefined) {
  const m = /^(\d+)(?:x(\d+))?$/.exec(values.size);
  if (!m) fail(`--size must be N or HxW (e.g. 32 or 48x64), got "${values.size}"`);
  folderOptions.size = [Number(m[1]), Number(m[2] ?? m[1])];
}
if (values.channels !== undefined) {
  if (values.channels !== "1" && values.channels !== "3") {
    fail(`--channels must be 1 (grey) or 3 (RGB), got "${values.channels}"`);
  }
  folderOptions.channels = Number(values.channels) as 1 | 3;
}
if (values.fit !== undefined) {
  if (values.fit !== "crop" && values.fit !== "pad") {
    fail(`--fit must be crop or pad, got "${values.fit}"`);
  }
  folderOptions.fit = values.fit;
}
if (values["cache-dir"] !== undefined) {
  folderOptions.cacheDir = values["cache-dir"] === "none" ? null : values["cache-dir"];
}

const t0 = performance.now();
const backend = await initBackend(values.backend as "wasm" | "cpu");
let data: TrainTest;
try {
  data = await loadDataset(dataset, folderOptions);
} catch (e) {
  fail((e as Error).message);
}
if (data.report) console.log(formatReport(data.report));

const config = recipeFor(dataset, values.quick, isFolder ? data.train : undefined);
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
try {
  checkLabelBudget(config, data.train);
} catch (e) {
  fail((e as Error).message);
}
console.log(
  `experiment: ${config.dataset}, ${config.labels} labels (${config.validation} for validation), ` +
    `seeds ${config.seeds.join(",")}, ${
      config.quick ? "quick" : "full"
    } mode, backend ${backend}, ` +
    `backbone ${config.backbone.kind}, augmentation ${config.pretrainAugment.preset}`,
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
