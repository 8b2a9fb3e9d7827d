/**
 * `deno task export --from DIR`: an export made from any checkpoint of this library —
 * a fine-tuned arm the notebooks cached (`data/checkpoints/<run>/ssl_new_head`: its backbone as
 * the encoder, its head as the classifier), a pre-training (`pretrain(..., { checkpointDir })`,
 * the notebooks' `data/checkpoints/<run>/pretrain`, or `savePretrained`: the encoder and the
 * projection head), or an export (written again, e.g. to score it on a dataset). The card takes
 * what the checkpoint recorded (dataset, classes, backbone, head, recipe, seed); given a test set,
 * the card is checked against it and the classifier's test accuracy is recorded.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { exportModel } from "./export_model.ts";
 * import { exportFromCheckpoint } from "./from_checkpoint.ts";
 * const encoder = articleBackbone([28, 28, 1]);
 * const root = await Deno.makeTempDir();
 * await exportModel(`${root}/a`, { encoder }, { dataset: "bars", classNames: ["l", "r"] });
 * const { card } = await exportFromCheckpoint(`${root}/a`, `${root}/b`, { command: "again" });
 * card.command; // "again"
 * encoder.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset.ts";
import { Checkpoint } from "../train/checkpoint.ts";
import { accuracy, argmaxRows } from "../eval/metrics.ts";
import { extractFeatures } from "../eval/features.ts";
import { backboneSettingText } from "../models/backbones.ts";
import { headSettingText } from "../models/heads/head_setting.ts";
import {
  exportModel,
  type ExportModels,
  loadExportedModel,
  ModelDataMismatch,
} from "./export_model.ts";
import {
  checkCardAgainst,
  makeModelCard,
  type ModelCard,
  type ModelCardInput,
} from "./model_card.ts";

/** The kinds of checkpoint an export can be made from. */
export const EXPORTABLE_KINDS = ["arm", "pretrain", "pretrained", "export"] as const;

/** Options of {@linkcode exportFromCheckpoint}. */
export interface FromCheckpointOptions {
  /** A test set: checked against the card; the classifier's accuracy on it goes in the card. */
  test?: ImageDataset;
  /** The test set's dataset spec, for the card. */
  dataset?: string;
  /** The command line, for the card. */
  command?: string;
}

/** Text of a setting recorded either as text or as its JSON form. */
function words(value: unknown, text: (v: never) => string): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : text(value as never);
}

/** Exports the checkpoint in `from` to `out` (see the module doc); returns the new card. */
export async function exportFromCheckpoint(
  from: string,
  out: string,
  options: FromCheckpointOptions = {},
): Promise<{ card: ModelCard; kind: string }> {
  const saved = Checkpoint.open(from, { kind: EXPORTABLE_KINDS });
  const kind = saved.manifest.kind;
  const models: ExportModels = { encoder: undefined as unknown as tf.LayersModel };
  let base: Partial<ModelCardInput>;
  try {
    if (kind === "export") {
      const m = await loadExportedModel(from);
      Object.assign(models, {
        encoder: m.encoder,
        classifier: m.classifier,
        projection: m.projection,
      });
      const c = m.card;
      base = {
        dataset: c.dataset.name,
        classNames: c.dataset.classNames,
        backbone: c.encoder.backbone,
        projectionHead: c.projectionHead,
        classifier: c.classifier && { arm: c.classifier.arm, head: c.classifier.head },
        method: c.method,
        selection: c.selection,
        recipe: c.recipe,
        seeds: c.seeds,
        seed: c.seed,
        testAccuracy: c.testAccuracy,
      };
    } else {
      const info = saved.manifest.info as Record<string, unknown>;
      models.encoder = await saved.model("backbone");
      if (kind === "arm") models.classifier = await saved.model("head");
      else models.projection = await saved.model("head");
      base = {
        dataset: String(info.dataset ?? options.dataset ?? "unknown"),
        classNames: (info.classNames as string[] | undefined) ?? options.test?.classNames,
        backbone: words(info.backbone, backboneSettingText),
        projectionHead: words(info.projectionHead ?? info.head, headSettingText),
        ...(kind === "arm" ? { classifier: { arm: String(info.arm) } } : {}),
        method: String(info.method ?? "simclr"),
        recipe: info.recipe,
        seed: info.seed as number | undefined,
      };
    }
    if (!base.classNames) {
      throw new ModelDataMismatch(
        `the checkpoint in ${from} does not record its class names; give the dataset it was ` +
          `trained on (--dataset)`,
      );
    }
    let evaluation: ModelCard["evaluation"];
    if (options.test) {
      const test = options.test;
      const draft = makeModelCard({
        ...base,
        dataset: base.dataset!,
        classNames: base.classNames,
        shape: models.encoder.inputs[0].shape.slice(1) as [number, number, number],
        featureDim: 0,
        backbone: base.backbone ?? "",
      });
      const problem = checkCardAgainst(
        draft,
        from,
        { ...test, name: options.dataset ?? test.name },
        {
          classes: models.classifier !== undefined,
        },
      );
      if (problem) throw new ModelDataMismatch(problem);
      if (models.classifier) {
        const classifier = models.classifier;
        const encoder = models.encoder;
        const { features, dim } = await extractFeatures(
          (x) => classifier.apply(encoder.apply(x)) as tf.Tensor,
          test.images,
          test.count,
          [test.height, test.width, test.channels],
        );
        evaluation = {
          dataset: `${options.dataset ?? test.name} (test)`,
          images: test.count,
          accuracy: accuracy(argmaxRows(features, dim), test.labels),
        };
      }
    }
    const card = await exportModel(out, models, {
      ...base,
      dataset: base.dataset!,
      classNames: base.classNames,
      ...(evaluation ? { evaluation } : {}),
      command: options.command,
    });
    return { card, kind };
  } finally {
    models.encoder?.dispose();
    models.classifier?.dispose();
    models.projection?.dispose();
  }
}
