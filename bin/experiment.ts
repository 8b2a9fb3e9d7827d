/**
 * `deno task experiment`: the article's experiment without Jupyter.
 *
 * Flags (`--help` lists them): `--dataset mnist | fashion-mnist | folder:<path>`, `--labels N`,
 * `--seeds a,b,c`, `--quick`, `--out FILE` (results JSON), `--epochs N` (pre-training epochs),
 * `--finetune-steps N` and `--student-batch N` (the fine-tuning budget), `--pretrain-augment
 * PRESET` (pre-training's views),
 * `--save-model DIR` (export the arm chosen on validation, `lib/experiment/save_model.ts`),
 * `--method simclr|byol|simsiam|barlow|vicreg` (the SSL method; a method's own head unless
 * `--head` says), `--pretrain-lr R` (pre-training's learning rate), `--temperature T`
 * (SimCLR's), `--head SPEC` (the projection head: `none`, `linear`, `mlp:32,16,classes`, ...),
 * `--backend wasm|webgpu|cpu|auto`. For `folder:` datasets also `--size 32` or `--size HxW`,
 * `--channels 1|3`, `--fit crop|pad` and `--cache-dir DIR|none` (see
 * `lib/data/image_folder.ts`); the recipe follows the data (`recipeFor` in
 * `lib/experiment/recipe.ts`).
 *
 * Every flag is checked before any data is loaded; a mistake is one line on stderr and exit
 * code 2 (lib/cli/main.ts).
 *
 * @module
 */
import { resultsJson } from "../lib/provenance.ts";
import { writeFileSync } from "node:fs";
import { type BackendName, initBackend, trainingWorkers } from "../lib/backend.ts";
import { ArmPool } from "../lib/experiment/arm_pool.ts";
import { loadDataset, type LoadDatasetOptions } from "../lib/data/load_dataset.ts";
import { formatReport } from "../lib/data/image_folder.ts";
import {
  checkLabelBudget,
  recipeFor,
  withFineTuneBudget,
  withPretrainAugment,
} from "../lib/experiment/recipe.ts";
import { describeRecipe } from "../lib/experiment/recipe_summary.ts";
import {
  BACKBONE_SETTING_FORMS,
  type BackboneConfig,
  backboneSettingText,
  parseBackboneSetting,
} from "../lib/models/backbones.ts";
import { runSeed, type SeedResult } from "../lib/experiment/run_seed.ts";
import { resultsTable, toResults, verdictLines } from "../lib/experiment/report.ts";
import {
  HEAD_SETTING_FORMS,
  type HeadSetting,
  headSettingText,
  parseHeadSetting,
} from "../lib/models/heads/head_setting.ts";
import {
  type CommandSpec,
  integerFlag,
  intList,
  oneOf,
  parseFlags,
  parseWith,
  positiveNumber,
  UsageError,
} from "../lib/cli/flags.ts";
import {
  BACKEND_FLAG,
  backendFlag,
  DATASET_FLAG,
  METHOD_FLAG,
  methodFlag,
  modelDirFlag,
  OUT_FLAG,
  outFlag,
  quickFlag,
  seedsFlag,
} from "../lib/cli/common_flags.ts";
import { asUsageError, commandLine, runMain } from "../lib/cli/main.ts";
import { BestSslArm } from "../lib/experiment/save_model.ts";
import { methodHead, PRETRAIN_DEFAULTS } from "../lib/pipeline/defaults.ts";
import type { SslMethod } from "../lib/train/ssl_method.ts";
import type { AugmentChoice } from "../lib/augment/presets.ts";

/** The augmentation presets `--pretrain-augment` takes (not "none": SSL needs two views). */
const PRETRAIN_PRESETS = ["stroke", "crop", "crop-flip", "colour", "digits"] as const;

/** The command's flags (`deno task experiment --help`). */
export const EXPERIMENT_COMMAND = {
  name: "experiment",
  usage: "deno task experiment [flags]",
  summary: "The article's experiment without Jupyter: supervised baselines against " +
    "self-supervised pre-training (SimCLR by default) with a projection head, every arm scored " +
    "on the test set.",
  flags: {
    dataset: DATASET_FLAG,
    labels: {
      type: "string",
      value: "N",
      description: "labelled training examples kept (20% of them for validation)",
    },
    seeds: seedsFlag("0,1,2; quick 0"),
    quick: quickFlag(),
    out: OUT_FLAG,
    "save-model": {
      type: "string",
      value: "DIR",
      description: "export the best fine-tuned SSL arm on validation (encoder, classifier and " +
        "model card; see docs/export.md) to DIR",
    },
    epochs: {
      type: "string",
      value: "N",
      description: "pre-training epochs (at least 1: the SSL arms need pre-training)",
    },
    "finetune-steps": {
      type: "string",
      value: "N",
      description: "optimiser steps of every fine-tuned arm, the strong baseline's and the " +
        "students' included (default the recipe's: 1500; colour folders 500)",
    },
    "student-batch": {
      type: "string",
      value: "N",
      description: "unlabelled images per step of the self-training students (default the " +
        "recipe's: 256; colour folders 128)",
    },
    "pretrain-augment": {
      type: "string",
      value: "PRESET",
      description: `pre-training's views: ${PRETRAIN_PRESETS.join(", ")} (default the ` +
        "data's: stroke for MNIST, crop-flip for Fashion-MNIST, crop for grey folders, colour " +
        "for colour ones; views that mirror, crop-flip and colour, make fine-tuning mirror the " +
        "labelled images too; docs/your-images.md)",
    },
    method: METHOD_FLAG,
    "pretrain-lr": {
      type: "string",
      value: "R",
      description: "pre-training's learning rate (Adam, falling tenfold over the epochs; default " +
        `the recipe's, ${PRETRAIN_DEFAULTS.learningRate})`,
    },
    temperature: {
      type: "string",
      value: "T",
      description: "NT-Xent temperature of --method simclr (a positive number)",
    },
    head: {
      type: "string",
      value: "SPEC",
      description:
        `projection head: ${HEAD_SETTING_FORMS} (default the method's: SimCLR's mlp-bn:128,classes; the article's is mlp:32,16,classes)`,
    },
    backbone: {
      type: "string",
      value: "SPEC",
      description: `the backbone: ${BACKBONE_SETTING_FORMS} (default: chosen from the data)`,
    },
    backend: BACKEND_FLAG,
    "arm-workers": {
      type: "string",
      value: "N|auto",
      default: "auto",
      description: "workers that train the fine-tuned arms side by side (auto: one per core; " +
        "1: one after the other on the main thread; wasm and cpu only)",
    },
    size: {
      type: "string",
      value: "N|HxW",
      description: "folder datasets: image size, e.g. 32 or 48x64",
    },
    channels: { type: "string", value: "1|3", description: "folder datasets: grey (1) or RGB (3)" },
    fit: { type: "string", value: "crop|pad", description: "folder datasets: how images fit" },
    "cache-dir": {
      type: "string",
      value: "DIR|none",
      description: "folder datasets: where decoded images are cached (none: no cache)",
    },
  },
} as const satisfies CommandSpec;

/** What the flags ask for, checked (no data loaded yet). */
export interface ExperimentArgs {
  /** `--dataset`. */
  dataset: string;
  /** Options for `folder:` datasets. */
  folder: LoadDatasetOptions;
  /** `--labels`. */
  labels?: number;
  /** `--seeds`. */
  seeds?: number[];
  /** `--quick`. */
  quick: boolean;
  /** `--save-model`. */
  saveModel?: string;
  /** `--out`. */
  out?: string;
  /** `--epochs`. */
  epochs?: number;
  /** `--finetune-steps`. */
  finetuneSteps?: number;
  /** `--student-batch`. */
  studentBatch?: number;
  /** `--pretrain-augment`. */
  pretrainAugment?: AugmentChoice["preset"];
  /** `--method`. */
  method: SslMethod;
  /** `--pretrain-lr`. */
  pretrainLr?: number;
  /** `--temperature`. */
  temperature?: number;
  /** `--head`. */
  head?: HeadSetting;
  /** `--backbone`. */
  backbone?: BackboneConfig;
  /** `--backend`. */
  backend: BackendName;
  /** `--arm-workers`: a number, or "auto". */
  armWorkers: number | "auto";
}

/** Parses and checks the flags; throws a `UsageError` (or `HelpRequested`). */
export function parseExperimentArgs(args: readonly string[]): ExperimentArgs {
  const v = parseFlags(EXPERIMENT_COMMAND, args);
  const isFolder = v.dataset.startsWith("folder:");
  for (const flag of ["size", "channels", "fit", "cache-dir"] as const) {
    if (v[flag] !== undefined && !isFolder) {
      throw new UsageError(
        `--${flag} applies to folder:<path> datasets only, not to "${v.dataset}"`,
        { helpHint: true },
      );
    }
  }
  const folder: LoadDatasetOptions = {};
  if (v.size !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(v.size);
    if (!m || Number(m[1]) < 1 || Number(m[2] ?? m[1]) < 1) {
      throw new UsageError(`--size must be N or HxW (e.g. 32 or 48x64), got "${v.size}"`, {
        helpHint: true,
      });
    }
    folder.size = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (v.channels !== undefined) {
    if (v.channels !== "1" && v.channels !== "3") {
      throw new UsageError(`--channels must be 1 (grey) or 3 (RGB), got "${v.channels}"`, {
        helpHint: true,
      });
    }
    folder.channels = Number(v.channels) as 1 | 3;
  }
  if (v.fit !== undefined) folder.fit = oneOf("fit", v.fit, ["crop", "pad"]);
  if (v["cache-dir"] !== undefined) {
    folder.cacheDir = v["cache-dir"] === "none" ? null : v["cache-dir"];
  }
  const method = methodFlag(v.method);
  if (v.temperature !== undefined && method !== "simclr") {
    throw new UsageError(
      `--temperature is NT-Xent's, which only --method simclr uses, not ${method}`,
      { helpHint: true },
    );
  }
  return {
    dataset: v.dataset,
    folder,
    labels: v.labels === undefined ? undefined : integerFlag("labels", v.labels, 1),
    seeds: v.seeds === undefined ? undefined : intList("seeds", v.seeds),
    quick: v.quick,
    out: v.out === undefined ? undefined : outFlag(v.out),
    saveModel: v["save-model"] === undefined
      ? undefined
      : modelDirFlag("save-model", v["save-model"]),
    // 0 epochs would report "SSL" arms that had no pre-training: refused.
    epochs: v.epochs === undefined ? undefined : integerFlag("epochs", v.epochs, 1),
    finetuneSteps: v["finetune-steps"] === undefined
      ? undefined
      : integerFlag("finetune-steps", v["finetune-steps"], 1),
    studentBatch: v["student-batch"] === undefined
      ? undefined
      : integerFlag("student-batch", v["student-batch"], 1),
    pretrainAugment: v["pretrain-augment"] === undefined
      ? undefined
      : oneOf("pretrain-augment", v["pretrain-augment"], PRETRAIN_PRESETS),
    method,
    pretrainLr: v["pretrain-lr"] === undefined
      ? undefined
      : positiveNumber("pretrain-lr", v["pretrain-lr"]),
    temperature: v.temperature === undefined
      ? undefined
      : positiveNumber("temperature", v.temperature),
    head: v.head === undefined ? undefined : parseWith("head", v.head, parseHeadSetting),
    backbone: v.backbone === undefined
      ? undefined
      : parseWith("backbone", v.backbone, parseBackboneSetting),
    backend: backendFlag(v.backend),
    armWorkers: v["arm-workers"] === "auto"
      ? "auto"
      : integerFlag("arm-workers", v["arm-workers"], 1),
  };
}

/** The head as `--head` would take it (an MLP without an output width ends in one per class). */
function headText(head: HeadSetting, classes: number): string {
  return headSettingText(
    head.kind === "mlp" && head.outputDim === undefined ? { ...head, outputDim: classes } : head,
  );
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseExperimentArgs(argv);
  const t0 = performance.now();
  const backend = await initBackend(args.backend);
  const isFolder = args.dataset.startsWith("folder:");
  const data = await asUsageError(() => loadDataset(args.dataset, args.folder));
  if (data.report) console.log(formatReport(data.report));

  const config = recipeFor(args.dataset, args.quick, isFolder ? data.train : undefined);
  if (args.labels !== undefined) {
    config.labels = args.labels;
    config.validation = Math.round(config.labels * 0.2);
  }
  if (args.seeds !== undefined) config.seeds = args.seeds;
  if (args.epochs !== undefined) config.pretrain.epochs = args.epochs;
  if (args.finetuneSteps !== undefined) withFineTuneBudget(config, args.finetuneSteps);
  if (args.studentBatch !== undefined) config.distill.unlabelledBatch = args.studentBatch;
  if (args.pretrainAugment !== undefined) {
    const channels = data.train.channels;
    if (args.pretrainAugment === "colour" && channels !== 3) {
      throw new UsageError(
        `--pretrain-augment colour needs colour images; ${args.dataset} loads with ${channels} ` +
          `channel(s): use stroke, crop or crop-flip, or --channels 3 for a folder`,
      );
    }
    withPretrainAugment(config, args.pretrainAugment);
  }
  if (args.method !== "simclr") {
    // SimCLR's recipe stays as it was (its caches and checkpoints keep their fingerprints).
    config.pretrain.method = args.method;
    config.head = methodHead(args.method);
  }
  if (args.pretrainLr !== undefined) config.pretrain.learningRate = args.pretrainLr;
  if (args.temperature !== undefined) config.pretrain.temperature = args.temperature;
  if (args.head !== undefined) config.head = args.head;
  if (args.backbone !== undefined) config.backbone = args.backbone;
  await asUsageError(() => checkLabelBudget(config, data.train));
  console.log(
    `experiment: ${config.dataset}, ${config.labels} labels (${config.validation} for validation), ` +
      `seeds ${config.seeds.join(",")}, ${
        config.quick ? "quick" : "full"
      } mode, backend ${backend}, ` +
      `backbone ${
        backboneSettingText(config.backbone)
      }, augmentation ${config.pretrainAugment.preset}, method ${args.method}, ` +
      `head ${headText(config.head, data.train.classNames.length)}`,
  );
  for (const line of describeRecipe(config, data.train)) console.log(`  ${line}`);
  const results: SeedResult[] = [];
  const armWorkers = trainingWorkers(args.armWorkers);
  using pool = armWorkers > 1
    ? await ArmPool.create({
      backend: args.backend === "auto" ? backend as BackendName : args.backend,
      config,
      data,
      workers: armWorkers,
    })
    : undefined;
  const best = args.saveModel ? new BestSslArm() : undefined;
  for (const seed of config.seeds) {
    try {
      results.push(
        await runSeed(config, data, seed, (m) => console.log(m), {
          pool,
          onModel: best && ((arm, model) => best.offer(seed, arm, model)),
        }),
      );
    } catch (e) {
      // A RangeError here is a setting the recipe cannot run (e.g. a head that does not fit an arm).
      if (e instanceof RangeError) throw new UsageError(`seed ${seed}: ${e.message}`, { cause: e });
      throw e;
    }
    console.log(`seed ${seed} done in ${(results.at(-1)!.timing.total / 60).toFixed(1)} min`);
  }
  const summary = toResults(config, results, backend, (performance.now() - t0) / 1000);
  console.log();
  console.log(resultsTable(summary));
  for (const line of verdictLines(summary)) console.log(`\n${line}`);
  console.log(
    `\ntotal ${(summary.timing_s.total / 60).toFixed(1)} min, pre-training ${
      (summary.timing_s.pretrain / 60).toFixed(1)
    } min`,
  );
  if (args.out) {
    writeFileSync(
      args.out,
      resultsJson({ method: args.method, ...summary }, "deno task experiment"),
    );
    console.log(`results written to ${args.out}`);
  }
  if (best && args.saveModel) {
    const saved = await best.save(args.saveModel, {
      config,
      classNames: data.train.classNames,
      testAccuracy: Object.fromEntries(
        Object.entries(summary.arms).map(([arm, a]) => [arm, a.test_accuracy]),
      ),
      command: commandLine("experiment", argv),
    });
    console.log(
      saved
        ? `model saved to ${args.saveModel}: ${saved.arm} of seed ${saved.seed} (best on ` +
          `validation), its encoder, classifier and model card`
        : `no model saved: no fine-tuned SSL arm ran`,
    );
  }
}

if (import.meta.main) await runMain("experiment", () => main(Deno.args));
