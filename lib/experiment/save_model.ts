/**
 * What `deno task experiment --save-model DIR` and the notebooks' `saveModel` key export: ONE
 * trained classifier and its encoder, chosen without the test set — the fine-tuned SSL arm
 * best on the validation images, by the rule that picks `ssl_distilled`'s teacher
 * (`chooseTeacher`: the accuracy of its selected epoch on the validation images; ties: the
 * lower validation loss, then the table's order), among `ssl_same_head`, `ssl_new_head` and
 * `ssl_head_layer1`; over several seeds, the best of every seed's candidates by the same rule
 * (the earlier seed on a full tie). The distilled student is not a candidate: it is chosen by
 * nobody's validation (it trains on every unlabelled image and keeps its final epoch).
 *
 * {@linkcode BestSslArm} is offered each candidate as it is trained (on this thread or coming
 * back from an arm worker as plain data) and keeps a copy of the best so far, as plain data, so
 * that the run can free its models; {@linkcode BestSslArm.save} writes it with
 * `lib/export/export_model.ts` once the run's test accuracies are known (they go in the card).
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { classifierOf } from "../pipeline/fine_tune.ts";
 * import type { SupervisedResult } from "../train/supervised.ts";
 * import { quickRecipe } from "./recipe.ts";
 * import { BestSslArm } from "./save_model.ts";
 * // What `runSeed(config, data, seed, log, { onModel })` hands over: trained arms.
 * const trained = (validationAccuracy: number) =>
 *   classifierOf(articleBackbone([28, 28, 1]), articleHead(32, 10), {
 *     history: [{ epoch: 0, step: 10, loss: 0.5, trainAccuracy: 0.9, learningRate: 1e-3,
 *       validationAccuracy, validationLoss: 0.4, seconds: 1 }],
 *     selectedEpoch: 0,
 *     selectedBy: "validation",
 *   } satisfies SupervisedResult, [28, 28, 1]);
 * const best = new BestSslArm();
 * const a = trained(0.80);
 * const b = trained(0.85);
 * best.offer(0, "ssl_same_head", a);
 * best.offer(0, "ssl_new_head", b); // better on validation: kept
 * a.dispose();
 * b.dispose(); // the kept copy is plain data
 * const config = quickRecipe();
 * const dir = `${await Deno.makeTempDir()}/model`; // e.g. "models/mnist"
 * const saved = await best.save(dir, {
 *   config,
 *   classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
 *   testAccuracy: { ssl_same_head: [0.81], ssl_new_head: [0.86] },
 * }); // saved.arm === "ssl_new_head"
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  modelFromTransfer,
  modelToTransfer,
  type ModelTransfer,
} from "../models/model_transfer.ts";
import { backboneSettingText } from "../models/backbones.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import type { FineTuned } from "../pipeline/fine_tune.ts";
import type { SupervisedResult } from "../train/supervised.ts";
import { exportModel } from "../export/export_model.ts";
import type { ModelCard } from "../export/model_card.ts";
import { type Arm, chooseTeacher, TEACHER_ARMS } from "./arms.ts";
import { ARM_TABLE } from "./arm_table.ts";
import type { ExperimentConfig } from "./recipe.ts";
import type { FineTunedTransfer } from "./arm_worker.ts";

/** The rule, in words, as the model card gives it. */
export const SAVE_MODEL_RULE =
  "the fine-tuned SSL arm (ssl_same_head, ssl_new_head or ssl_head_layer1) with the best " +
  "validation accuracy at its selected epoch (ties: lower validation loss, then the arm " +
  "table's order, then the earlier seed), over every seed of the run; the test set chose nothing";

interface Candidate {
  arm: Arm;
  seed: number;
  model: { result: SupervisedResult };
  backbone: ModelTransfer;
  head: ModelTransfer;
}

/** What {@linkcode BestSslArm.save} writes into the card besides the model. */
export interface SaveModelInfo {
  config: ExperimentConfig;
  classNames: string[];
  /** Test accuracy of every arm, one figure per seed. */
  testAccuracy?: Record<string, number[]>;
  /** The command line that made the run. */
  command?: string;
}

/** Keeps the best fine-tuned SSL arm offered so far (see the module doc). */
export class BestSslArm {
  #best?: Candidate;

  /** The arm and seed kept so far, if any. */
  get chosen(): { arm: Arm; seed: number } | undefined {
    return this.#best && { arm: this.#best.arm, seed: this.#best.seed };
  }

  /** Offers a trained arm of `seed`; kept (copied as plain data) when it is the best so far. */
  offer(seed: number, arm: Arm, model: FineTuned | FineTunedTransfer): void {
    if (!TEACHER_ARMS.includes(arm)) return;
    const probe = { arm, seed, model: { result: model.result } };
    const best = chooseTeacher(this.#best ? [this.#best, probe] : [probe]);
    if (best !== probe) return;
    const plain = (m: tf.LayersModel | ModelTransfer) =>
      "topology" in m ? m : modelToTransfer(m as tf.LayersModel);
    this.#best = { ...probe, backbone: plain(model.backbone), head: plain(model.head) };
  }

  /** Exports the arm kept to `dir` with its card; `undefined` when none was offered. */
  async save(
    dir: string,
    info: SaveModelInfo,
  ): Promise<{ arm: Arm; seed: number; card: ModelCard } | undefined> {
    const best = this.#best;
    if (!best) return undefined;
    const encoder = await modelFromTransfer(best.backbone);
    const classifier = await modelFromTransfer(best.head);
    try {
      const { config } = info;
      const card = await exportModel(dir, { encoder, classifier }, {
        dataset: config.dataset,
        classNames: info.classNames,
        backbone: backboneSettingText(config.backbone),
        projectionHead: headSettingText(config.head),
        classifier: { arm: best.arm, head: ARM_TABLE[best.arm].title },
        method: "simclr",
        selection: SAVE_MODEL_RULE,
        recipe: config,
        seeds: config.seeds,
        seed: best.seed,
        testAccuracy: info.testAccuracy,
        command: info.command,
      });
      return { arm: best.arm, seed: best.seed, card };
    } finally {
      encoder.dispose();
      classifier.dispose();
    }
  }
}
