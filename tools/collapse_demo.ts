/**
 * The collapse demonstration of notebook 09 and docs/methods.md at a longer budget than the
 * methods study's 200 steps: BYOL or SimSiam pre-trained twice on MNIST, once as the method is
 * (its projector and its predictor) and once stripped (no head, no predictor), printing after
 * every 200 steps the loss, the kNN accuracy of h on 200 validation labels, the spread of the
 * L2-normalised z against 1/√d (SimSiam's collapse measure: 0 when every image gives the same
 * direction) and the effective rank (RankMe, centred) of h and z.
 *
 * ```sh
 * deno run -A tools/collapse_demo.ts --method byol --epochs 5
 * ```
 *
 * @example
 * ```ts
 * import { COLLAPSE_DEMO_COMMAND } from "./collapse_demo.ts";
 * console.log(COLLAPSE_DEMO_COMMAND.usage);
 * ```
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import {
  type CommandSpec,
  integerFlag,
  nonNegativeInt,
  oneOf,
  parseFlags,
} from "../lib/cli/flags.ts";
import { runMain } from "../lib/cli/main.ts";
import { loadMnist } from "../lib/data/mnist.ts";
import { pretrain, splitLabels } from "../lib/mod.ts";

/** The command's flags (`--help`). */
export const COLLAPSE_DEMO_COMMAND = {
  name: "collapse_demo",
  usage: "deno run -A tools/collapse_demo.ts [flags]",
  summary: "BYOL or SimSiam on MNIST as the method is and stripped of its head and predictor, " +
    "with the collapse measures after every 200 steps.",
  flags: {
    method: { type: "string", value: "NAME", default: "byol", description: "byol or simsiam" },
    epochs: {
      type: "string",
      value: "N",
      default: "5",
      description: "epochs of 200 steps of 256 pairs",
    },
    seed: { type: "string", value: "N", default: "0", description: "seed of the split and runs" },
  },
} as const satisfies CommandSpec;

async function main(argv: readonly string[]): Promise<void> {
  const v = parseFlags(COLLAPSE_DEMO_COMMAND, argv);
  const method = oneOf("method", v.method, ["byol", "simsiam"]);
  const epochs = integerFlag("epochs", v.epochs, 1);
  const seed = nonNegativeInt("seed", v.seed);
  await initBackend();
  const { train } = await loadMnist();
  const split = splitLabels(train, { labels: 300, validation: 200, seed });
  const monitor = {
    labels: train.labels,
    labelled: split.labelled,
    validation: split.validation,
    k: 5,
  };
  for (const variant of ["as it is", "no head, no predictor"] as const) {
    const t0 = performance.now();
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      method,
      ...(variant === "as it is" ? {} : { head: { kind: "none" }, predictor: false }),
      epochs,
      maxStepsPerEpoch: 200,
      batchSize: 256,
      earlyStop: undefined,
      workers: "auto",
      seed,
      monitor,
      onEpoch: (e) =>
        console.log(
          `${method}, ${variant}: ${(e.epoch + 1) * e.steps} steps, loss ${e.loss.toFixed(4)}, ` +
            `kNN (val) ${(e.knnAccuracy! * 100).toFixed(1)}%, spread of z ${
              e.zStd!.toFixed(3)
            } (1/√d ${(1 / Math.sqrt(e.zDim!)).toFixed(3)}), RankMe h ${
              e.rankH!.toFixed(1)
            }/${e.hDim}, z ${e.rankZ!.toFixed(1)}/${e.zDim}, ${
              ((performance.now() - t0) / 1000).toFixed(0)
            } s`,
        ),
    });
    pre.dispose();
  }
}

if (import.meta.main) await runMain("collapse_demo", () => main(Deno.args));
