/**
 * `distill`: SimCLRv2's third step — use the unlabelled images a second
 * time, in one of two ways:
 *
 * - `mode: "soft"` (SimCLRv2's distillation, Chen et al. 2020b): a fine-tuned
 *   model (the teacher) labels every unlabelled training image once with its
 *   softmax at a temperature τ; a student (the pre-trained encoder with a
 *   fresh head) is fine-tuned on those soft labels and on the labelled
 *   images' true labels together;
 * - `mode: "self-training"` (the default): the student starts as a copy of
 *   the teacher and keeps labelling the unlabelled images itself while it
 *   learns: at every step the class it predicts for a weak view of each
 *   unlabelled image becomes the target of a strong view of it, when it is
 *   confident enough (FixMatch's recipe, Sohn et al. 2020; Xie et al. 2020's
 *   noisy student). On 200 MNIST labels this gains points where the soft
 *   version only copies its teacher (the README's results).
 *
 * Either way the student is selected like every other arm (on validation, or
 * its final model).
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { splitLabels } from "./labels.ts";
 * import { pretrain } from "./pretrain.ts";
 * import { fineTune } from "./fine_tune.ts";
 * import { distill } from "./distill.ts";
 * await initBackend();
 * const { train } = await loadMnist();
 * const split = splitLabels(train, { labels: 200, seed: 0, maxUnlabelled: 1024 });
 * const pre = await pretrain(train, { indices: split.unlabelled, epochs: 1, batchSize: 256 });
 * const teacher = await fineTune(pre, train, split, { steps: 40 });
 * const student = await distill(teacher, pre, train, split, {
 *   unlabelled: split.unlabelled,
 *   steps: 20,
 *   unlabelledBatch: 64,
 * });
 * console.log(student.unlabelledUsed); // 1024
 * student.dispose();
 * teacher.dispose();
 * pre.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { type ImageDataset, imageSize } from "../data/dataset.ts";
import { gatherImages } from "../train/batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { fineTune, type FineTuned, type FineTuneOptions } from "./fine_tune.ts";
import { type Pretrained, shapeOf } from "./pretrain.ts";
import type { AugmentChoice } from "../augment/presets.ts";

/** Settings of {@linkcode distill}: the soft labels, and the student's fine-tuning. */
export interface DistillOptions
  extends Omit<FineTuneOptions, "head" | "distill" | "selfTrain" | "init"> {
  /** The unlabelled images the teacher labels. */
  unlabelled: Int32Array;
  /** "self-training" (default) or "soft" (see the module doc). */
  mode?: "soft" | "self-training";
  /** τ of the teacher's and the student's softmax (default 1, as SimCLRv2). "soft" only. */
  temperature?: number;
  /** Weight of the true labels' loss in [0, 1) (default 0.5; the rest: the soft labels). "soft" only. */
  labelWeight?: number;
  /** Unlabelled images per step (default 256). */
  unlabelledBatch?: number;
  /** A pseudo-label counts above this probability (default 0.7). "self-training" only. */
  threshold?: number;
  /** The strong view of an unlabelled image (default `augment`). "self-training" only. */
  strongAugment?: AugmentChoice;
  /** Pseudo-labels from a moving average of the weights (0: none). "self-training" only. */
  emaMomentum?: number;
}

/** A distilled student, and what it learnt from. */
export interface Distilled extends FineTuned {
  /** Unlabelled images the teacher labelled. */
  unlabelledUsed: number;
  /** Share of those images where the student's final class is the teacher's. */
  agreement: number;
}

/** Rows of unlabelled images pushed through a model at once. */
const CHUNK = 4096;

/** The logits of `model` (backbone + head) for the images `indices` of `data`, in chunks. */
async function logitsOf(
  model: Pick<FineTuned, "backbone" | "head">,
  data: ImageDataset,
  indices: Int32Array,
): Promise<{ logits: Float32Array; dim: number }> {
  const size = imageSize(data);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let i = 0; i < indices.length; i += CHUNK) {
    const idx = indices.subarray(i, Math.min(i + CHUNK, indices.length));
    const r = await extractFeatures(
      (x) => model.head.apply(model.backbone.apply(x)) as tf.Tensor,
      gatherImages(data.images, size, idx),
      idx.length,
      shapeOf(data),
    );
    parts.push(r.features);
    dim = r.dim;
  }
  const logits = new Float32Array(indices.length * dim);
  let at = 0;
  for (const p of parts) {
    logits.set(p, at);
    at += p.length;
  }
  return { logits, dim };
}

/** Row-wise softmax of `logits / temperature` (numerically stable). */
export function softmaxRows(logits: Float32Array, dim: number, temperature: number): Float32Array {
  if (!(temperature > 0)) {
    throw new RangeError(`softmaxRows: temperature must be > 0, got ${temperature}`);
  }
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / dim; r++) {
    let max = -Infinity;
    for (let j = 0; j < dim; j++) max = Math.max(max, logits[r * dim + j] / temperature);
    let sum = 0;
    for (let j = 0; j < dim; j++) {
      const e = Math.exp(logits[r * dim + j] / temperature - max);
      out[r * dim + j] = e;
      sum += e;
    }
    for (let j = 0; j < dim; j++) out[r * dim + j] /= sum;
  }
  return out;
}

function argmax(values: Float32Array, dim: number, row: number): number {
  let best = 0;
  for (let j = 1; j < dim; j++) if (values[row * dim + j] > values[row * dim + best]) best = j;
  return best;
}

/**
 * Distils `teacher` into a student on the unlabelled images `options.unlabelled` and the
 * true labels of `split.labelled`: a copy of the teacher that self-trains, or (`mode: "soft"`)
 * the pre-trained encoder `from` + a fresh head learning the teacher's soft labels; see the
 * module doc. `from` may be `null` for self-training (a student of a supervised teacher).
 */
export async function distill(
  teacher: Pick<FineTuned, "backbone" | "head">,
  from: Pretrained | null,
  data: ImageDataset,
  split: { labelled: Int32Array; validation?: Int32Array },
  options: DistillOptions,
): Promise<Distilled> {
  const {
    unlabelled,
    mode = "self-training",
    temperature = 1,
    labelWeight = 0.5,
    unlabelledBatch = 256,
    threshold,
    strongAugment,
    emaMomentum,
    ...tune
  } = options;
  if (unlabelled.length === 0) throw new RangeError("distill: no unlabelled images to label");
  if (!(labelWeight >= 0 && labelWeight < 1)) {
    throw new RangeError(`distill: labelWeight must be in [0, 1), got ${labelWeight}`);
  }
  if (!Number.isInteger(unlabelledBatch) || unlabelledBatch < 1) {
    throw new RangeError(
      `distill: unlabelledBatch must be a positive integer, got ${unlabelledBatch}`,
    );
  }
  if (mode !== "soft" && mode !== "self-training") {
    throw new RangeError(`distill: mode must be "soft" or "self-training", got "${mode}"`);
  }
  if (mode === "soft" && !from) {
    throw new RangeError("distill: the soft mode's student starts from a pre-trained encoder");
  }
  const { logits, dim } = await logitsOf(teacher, data, unlabelled);
  const stream = tune.stream ?? "finetune-ssl_distilled";
  const student = mode === "soft"
    ? await fineTune(from, data, split, {
      ...tune,
      head: "new",
      headSeed: tune.headSeed ?? from!.seed + 3000,
      stream,
      distill: {
        indices: unlabelled,
        probs: softmaxRows(logits, dim, temperature),
        temperature,
        weight: labelWeight,
        batchSize: unlabelledBatch,
      },
    })
    : await fineTune(from, data, split, {
      ...tune,
      stream,
      init: teacher,
      selfTrain: {
        unlabelled,
        threshold,
        batchSize: unlabelledBatch,
        emaMomentum,
        strong: strongAugment ?? tune.augment ?? { preset: "none" },
      },
    });
  const mine = await logitsOf(student, data, unlabelled);
  let same = 0;
  for (let r = 0; r < unlabelled.length; r++) {
    if (argmax(mine.logits, dim, r) === argmax(logits, dim, r)) same++;
  }
  return Object.assign(student, {
    unlabelledUsed: unlabelled.length,
    agreement: same / unlabelled.length,
  });
}
