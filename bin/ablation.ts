/**
 * `deno task ablation`: the projection-head study (see lib/study/study.ts).
 *
 * Flags (`--help` lists them): `--part heads,temperature,labels,methods` (default the first
 * three; `methods`, the projection head across SSL methods, runs only when named), `--seeds a,b,c`
 * (default 0,1,2; quick 0,1; the methods part: 0), `--epochs N` and `--batch-size N` (the SSL
 * budget of every pre-training run), `--method simclr|byol|simsiam|barlow|vicreg` (the SSL method
 * of every run; the temperature part is SimCLR's only; the methods part runs every method unless
 * `--method` names one), `--dataset mnist | fashion-mnist | folder:<path>`,
 * `--quick` (or
 * `SSL_QUICK=1`), `--out FILE` (results JSON), `--backend wasm|webgpu|cpu|auto`, `--cache-dir DIR` (store
 * every finished run there; a rerun with the same settings resumes instead of starting over).
 * Prints the tables and the wall time. A mistake in the flags is one line and exit code 2.
 *
 * @module
 */
import { loadDataset } from "../lib/mod.ts";
import { resultsJson } from "../lib/provenance.ts";
import { writeFileSync } from "node:fs";
import { type BackendName, initBackend, trainingWorkers } from "../lib/backend.ts";
import { ArmPool } from "../lib/experiment/arm_pool.ts";
import { ALL_PARTS, fullAblation, parseParts, PARTS, quickAblation } from "../lib/study/recipe.ts";
import { runAblation } from "../lib/study/study.ts";
import { ablationTables } from "../lib/study/report.ts";
import {
  type CommandSpec,
  integerFlag,
  intList,
  parseFlags,
  UsageError,
} from "../lib/cli/flags.ts";
import {
  BACKEND_FLAG,
  backendFlag,
  DATASET_FLAG,
  METHOD_FLAG,
  methodFlag,
  OUT_FLAG,
  outFlag,
  quickFlag,
  seedsFlag,
} from "../lib/cli/common_flags.ts";
import { asUsageError, runMain } from "../lib/cli/main.ts";
import { methodHead } from "../lib/pipeline/defaults.ts";

/** The command's flags (`deno task ablation --help`). */
export const ABLATION_COMMAND = {
  name: "ablation",
  usage: "deno task ablation [flags]",
  summary: "The projection-head study: head none / linear / MLP, features h vs z, temperature " +
    "sweep, strong baselines, label-budget curve.",
  flags: {
    dataset: DATASET_FLAG,
    part: {
      type: "string",
      value: "LIST",
      default: PARTS.join(","),
      description: `parts of the study to run, any of ${ALL_PARTS.join(", ")} (methods: the ` +
        `projection head across SSL methods, one seed by default; only when named)`,
    },
    seeds: seedsFlag("0,1,2; quick 0,1"),
    method: METHOD_FLAG,
    epochs: {
      type: "string",
      value: "N",
      description: "pre-training epochs of every SSL run (>= 1)",
    },
    "batch-size": {
      type: "string",
      value: "N",
      description: "pre-training batch size of every SSL run (>= 2)",
    },
    quick: quickFlag(),
    out: OUT_FLAG,
    backend: BACKEND_FLAG,
    "cache-dir": {
      type: "string",
      value: "DIR",
      description: "keep every finished run there; a rerun with the same settings resumes",
    },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const v = parseFlags(ABLATION_COMMAND, argv);
  let parts = await asUsageError(() => parseParts(v.part), "--part");
  const method = methodFlag(v.method);
  if (method !== "simclr" && parts.includes("temperature")) {
    // The temperature is NT-Xent's: the sweep is SimCLR's only.
    if (argv.some((a) => a === "--part" || a.startsWith("--part="))) {
      throw new UsageError(
        `--part temperature sweeps NT-Xent's temperature, which --method ${method} does not ` +
          `use; leave it out (e.g. --part heads,labels)`,
        { helpHint: true },
      );
    }
    parts = parts.filter((p) => p !== "temperature");
  }
  const seeds = v.seeds === undefined ? undefined : intList("seeds", v.seeds);
  const epochs = v.epochs === undefined ? undefined : integerFlag("epochs", v.epochs, 1);
  const batchSize = v["batch-size"] === undefined
    ? undefined
    : integerFlag("batch-size", v["batch-size"], 2);
  const out = v.out === undefined ? undefined : outFlag(v.out);
  const backendName = backendFlag(v.backend);

  const t0 = performance.now();
  const backend = await initBackend(backendName);
  const data = await asUsageError(() => loadDataset(v.dataset));
  const train = v.dataset.startsWith("folder:") ? data.train : undefined;
  const config = v.quick ? quickAblation(v.dataset, train) : fullAblation(v.dataset, train);
  config.parts = parts;
  if (seeds !== undefined) config.seeds = seeds;
  if (epochs !== undefined) config.pretrain.epochs = epochs;
  if (batchSize !== undefined) config.pretrain.batchSize = batchSize;
  if (parts.includes("methods")) {
    // The methods part: one seed unless --seeds says otherwise; every method unless --method
    // names one; --epochs and --batch-size set its pre-training budget too.
    if (seeds !== undefined) config.methods.seeds = seeds;
    else if (parts.length === 1) config.seeds = [...config.methods.seeds];
    if (argv.some((a) => a === "--method" || a.startsWith("--method="))) {
      config.methods.methods = [method];
    }
    if (epochs !== undefined) config.methods.pretrain.epochs = epochs;
    if (batchSize !== undefined) config.methods.pretrain.batchSize = batchSize;
  }
  if (method !== "simclr") {
    // SimCLR's study stays as it was (its cached runs keep their keys).
    config.pretrain.method = method;
    config.base.pretrain.method = method;
    config.base.head = methodHead(method);
  }
  // The methods part alone has its own pre-training budget: say that one.
  const budget = parts.length === 1 && parts[0] === "methods"
    ? config.methods.pretrain
    : config.pretrain;
  console.log(
    `ablation: ${config.dataset}, method ${method}, parts ${config.parts.join(",")}, seeds ${
      config.seeds.join(",")
    }, ` +
      `${config.quick ? "quick" : "full"} mode, SSL budget ${budget.epochs} epoch(s) at ` +
      `batch ${budget.batchSize}${
        budget.maxStepsPerEpoch ? ` (at most ${budget.maxStepsPerEpoch} steps each)` : ""
      }, backend ${backend}`,
  );
  let results;
  // The label curve trains the experiment's arms: side by side on every core, as the experiment.
  const armWorkers = config.parts.includes("labels") ? trainingWorkers("auto") : 1;
  using pool = armWorkers > 1
    ? await ArmPool.create({
      backend: backend as BackendName,
      config: config.base,
      data,
      workers: armWorkers,
    })
    : undefined;
  try {
    results = await runAblation(config, data, (m) => console.log(m), backend, v["cache-dir"], {
      pool,
    });
  } catch (e) {
    // A RangeError is a setting the study cannot run; anything else is unexpected.
    if (e instanceof RangeError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
  console.log();
  console.log(ablationTables(results));
  const wall = (performance.now() - t0) / 1000;
  console.log(
    `\nwall time ${(wall / 60).toFixed(1)} min (pre-training ${
      (results.timing_s.pretrain / 60).toFixed(1)
    } min; heads ${(results.timing_s.heads / 60).toFixed(1)}, temperature ${
      (results.timing_s.temperature / 60).toFixed(1)
    }, labels ${(results.timing_s.labels / 60).toFixed(1)}, methods ${
      ((results.timing_s.methods ?? 0) / 60).toFixed(1)
    } min)`,
  );
  if (out) {
    writeFileSync(out, resultsJson({ method, ...results, wall_s: wall }, "deno task ablation"));
    console.log(`results written to ${out}`);
  }
}

if (import.meta.main) await runMain("ablation", () => main(Deno.args));
