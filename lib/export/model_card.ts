/**
 * The model card of an exported model (`model_card.json` and a short `MODEL_CARD.md` beside the
 * model files): what the model was trained on (dataset and class names), what it takes (input
 * size, channels, pixels in [0, 1], channels last), what it is (backbone, projection head,
 * classifier, method), how it was made (recipe, seeds, the command line, the date) and how well
 * it did (test accuracy of every arm of the run that made it).
 *
 * {@linkcode checkCardAgainst} compares a card with the data a model is about to see: a size or
 * channel count the model was not trained for (the encoder cannot run), or other classes (its
 * classifier does not apply), is one line naming the model's folder, both sides and what to do.
 *
 * @example
 * ```ts
 * import { cardMarkdown, checkCardAgainst, makeModelCard } from "./model_card.ts";
 * const card = makeModelCard({
 *   dataset: "mnist",
 *   classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
 *   shape: [28, 28, 1],
 *   featureDim: 32,
 *   backbone: "cnn",
 *   projectionHead: "mlp-bn:128,classes",
 *   classifier: { arm: "ssl_new_head", head: "dropout 0.3 + linear" },
 * });
 * cardMarkdown(card).startsWith("# "); // true
 * const problem = checkCardAgainst(card, "models/mnist", {
 *   name: "my folder", height: 32, width: 32, channels: 3, classNames: ["cat", "dog"],
 * }); // "the model in models/mnist takes 28x28 grey images (1 channel); my folder has 32x32 ..."
 * ```
 *
 * @module
 */

/** How the card writes a method's name. */
const METHOD_NAMES: Record<string, string> = {
  simclr: "SimCLR",
  byol: "BYOL",
  simsiam: "SimSiam",
  barlow: "Barlow Twins",
  vicreg: "VICReg",
};

/** The card's format tag. */
export const MODEL_CARD_FORMAT = "ssl-model-card";

/** `model_card.json`. */
export interface ModelCard {
  format: typeof MODEL_CARD_FORMAT;
  version: 1;
  /** One line: method, backbone, dataset (and the arm of the classifier). */
  title: string;
  /** The self-supervised method of pre-training ("simclr" today). */
  method: string;
  /** The data it was trained on. */
  dataset: { name: string; classNames: string[] };
  /** What the encoder takes. */
  input: {
    height: number;
    width: number;
    channels: number;
    /** "NHWC": images row-major, channels last, as one batch tensor [n, height, width, channels]. */
    layout: "NHWC";
    /** Pixel values: [0, 1] (bytes / 255), no mean or standard-deviation normalisation. */
    range: [0, 1];
    /** The same in words, for people. */
    normalisation: string;
  };
  /** f: images → features h (`encoder/model.json`). */
  encoder: { path: string; backbone: string; featureDim: number };
  /** g, the projection head pre-training used (z = g(h)); not exported unless `projection`. */
  projectionHead?: string;
  /** The projection head itself, when exported (`projection/model.json`): h → z. */
  projection?: { path: string; outputDim: number };
  /** h → class logits (`classifier/model.json`), when there is one: logits = classifier(encoder(x)). */
  classifier?: { path: string; arm?: string; head?: string; classes: number };
  /** How the exported arm was chosen (never on the test set). */
  selection?: string;
  /** The recipe of the run (plain JSON). */
  recipe?: unknown;
  /** The seeds of the run, and the seed of the exported model. */
  seeds?: number[];
  seed?: number;
  /** Test accuracy of every arm of the run, one figure per seed (fractions in [0, 1]). */
  testAccuracy?: Record<string, number[]>;
  /** The exported classifier scored by `deno task export --dataset` on that dataset's test set. */
  evaluation?: { dataset: string; images: number; accuracy: number };
  /** When it was written (ISO 8601). */
  date: string;
  /** The command line that made it. */
  command?: string;
  /** The tfjs version that wrote it, and the layers its files use. */
  tfjs?: string;
  layers: string;
}

/** What a caller knows about a model (the rest of the card is derived). */
export interface ModelCardInput {
  /** The dataset spec or name ("mnist", "folder:photos", ...). */
  dataset: string;
  classNames: string[];
  /** [height, width, channels]. */
  shape: [number, number, number];
  /** Width of h. */
  featureDim: number;
  /** The backbone, as `--backbone` spells it ("cnn", "resnet", ...). */
  backbone: string;
  /** The projection head of pre-training, as `--head` spells it. */
  projectionHead?: string;
  /** The classifier, when exported: the arm it comes from and its head in words. */
  classifier?: { arm?: string; head?: string };
  /** The projection head's output width, when it is exported. */
  projectionDim?: number;
  method?: string;
  selection?: string;
  recipe?: unknown;
  seeds?: number[];
  seed?: number;
  testAccuracy?: Record<string, number[]>;
  evaluation?: ModelCard["evaluation"];
  command?: string;
  tfjs?: string;
  /** Default: now. */
  date?: string;
}

/** The card of a model (see {@linkcode ModelCard}). */
export function makeModelCard(input: ModelCardInput): ModelCard {
  const [height, width, channels] = input.shape;
  const method = input.method ?? "simclr";
  const arm = input.classifier?.arm ? `, ${input.classifier.arm}` : "";
  return {
    format: MODEL_CARD_FORMAT,
    version: 1,
    title: `${
      METHOD_NAMES[method] ?? method
    } encoder (${input.backbone}) on ${input.dataset}${arm}`,
    method,
    dataset: { name: input.dataset, classNames: [...input.classNames] },
    input: {
      height,
      width,
      channels,
      layout: "NHWC",
      range: [0, 1],
      normalisation: `pixels scaled to [0, 1] (byte / 255), no mean subtraction; ${
        channels === 1 ? "grey" : "RGB"
      }, ${height}x${width}, channels last`,
    },
    encoder: { path: "encoder/model.json", backbone: input.backbone, featureDim: input.featureDim },
    ...(input.projectionHead ? { projectionHead: input.projectionHead } : {}),
    ...(input.projectionDim
      ? { projection: { path: "projection/model.json", outputDim: input.projectionDim } }
      : {}),
    ...(input.classifier
      ? {
        classifier: {
          path: "classifier/model.json",
          ...input.classifier,
          classes: input.classNames.length,
        },
      }
      : {}),
    ...(input.selection ? { selection: input.selection } : {}),
    ...(input.recipe === undefined ? {} : { recipe: input.recipe }),
    ...(input.seeds ? { seeds: input.seeds } : {}),
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    ...(input.testAccuracy ? { testAccuracy: input.testAccuracy } : {}),
    ...(input.evaluation ? { evaluation: input.evaluation } : {}),
    date: input.date ?? new Date().toISOString(),
    ...(input.command ? { command: input.command } : {}),
    ...(input.tfjs ? { tfjs: input.tfjs } : {}),
    layers: "tfjs standard layers only (BatchNormalization, Dropout, Conv2D, Dense, ...): " +
      "loads in a plain tfjs and in the tfjs → Keras converter",
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** `MODEL_CARD.md`: the card for people, short. */
export function cardMarkdown(card: ModelCard): string {
  const i = card.input;
  const lines = [
    `# ${card.title}`,
    "",
    `- **Method**: ${card.method} (contrastive pre-training with a projection head)`,
    `- **Dataset**: ${card.dataset.name}, ${card.dataset.classNames.length} classes: ${
      card.dataset.classNames.join(", ")
    }`,
    `- **Input**: ${i.height}x${i.width}, ${i.channels} channel${
      i.channels === 1 ? " (grey)" : "s (RGB)"
    }, ${i.normalisation}; a batch is a float32 tensor [n, ${i.height}, ${i.width}, ${i.channels}]`,
    `- **Encoder** (\`${card.encoder.path}\`): backbone ${card.encoder.backbone}, features h of ` +
    `${card.encoder.featureDim} numbers`,
  ];
  if (card.projectionHead) {
    lines.push(`- **Projection head of pre-training**: ${card.projectionHead}`);
  }
  if (card.projection) {
    lines.push(
      `- **Projection head** (\`${card.projection.path}\`): h → z of ${card.projection.outputDim}`,
    );
  }
  if (card.classifier) {
    const c = card.classifier;
    lines.push(
      `- **Classifier** (\`${c.path}\`): h → ${c.classes} logits${c.head ? `, ${c.head}` : ""}${
        c.arm ? `; the arm ${c.arm}` : ""
      }; class = argmax(classifier(encoder(x)))`,
    );
  }
  if (card.selection) lines.push(`- **Chosen by**: ${card.selection}`);
  if (card.seeds) {
    lines.push(
      `- **Seeds** of the run: ${card.seeds.join(", ")}${
        card.seed === undefined ? "" : `; this model: seed ${card.seed}`
      }`,
    );
  } else if (card.seed !== undefined) lines.push(`- **Seed**: ${card.seed}`);
  if (card.testAccuracy && Object.keys(card.testAccuracy).length > 0) {
    lines.push("", "| arm | test accuracy per seed |", "| --- | --- |");
    for (const [arm, values] of Object.entries(card.testAccuracy)) {
      lines.push(`| ${arm} | ${values.map(pct).join(", ") || "—"} |`);
    }
    lines.push("");
  }
  if (card.evaluation) {
    const e = card.evaluation;
    lines.push(
      `- **Test accuracy of this classifier** on ${e.dataset}: ${pct(e.accuracy)} ` +
        `(${e.images} images)`,
    );
  }
  lines.push(`- **Date**: ${card.date}`);
  if (card.command) lines.push(`- **Made by**: \`${card.command}\``);
  lines.push(
    `- **Files**: tfjs LayersModel format (model.json + weights.bin), ${card.layers}; ` +
      "`manifest.json` lists every file's size and SHA-256",
  );
  return lines.join("\n") + "\n";
}

/** What {@linkcode checkCardAgainst} compares: a dataset's shape and classes. */
export interface DataShape {
  name: string;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
}

const images = (h: number, w: number, c: number) =>
  `${h}x${w} ${c === 1 ? "grey" : c === 3 ? "RGB" : `${c}-channel`} images (${c} channel${
    c === 1 ? "" : "s"
  })`;

/**
 * The one-line problem with running the model of `card` (in folder `dir`) on `data`, or
 * `undefined`: another image size or channel count always; other classes only when
 * `classes` is true (the classifier is used).
 */
export function checkCardAgainst(
  card: ModelCard,
  dir: string,
  data: DataShape,
  options: { classes?: boolean } = {},
): string | undefined {
  const i = card.input;
  if (i.height !== data.height || i.width !== data.width || i.channels !== data.channels) {
    return `the model in ${dir} takes ${images(i.height, i.width, i.channels)}; ${data.name} ` +
      `has ${images(data.height, data.width, data.channels)}; load the data at the model's size ` +
      `(folders: --size ${i.height}x${i.width} --channels ${i.channels}) or use another model`;
  }
  if (options.classes && card.dataset.classNames.join("\n") !== data.classNames.join("\n")) {
    const list = (c: string[]) =>
      `${c.length} (${c.slice(0, 5).join(", ")}${c.length > 5 ? ", ..." : ""})`;
    return `the model in ${dir} classifies ${list(card.dataset.classNames)} classes; ` +
      `${data.name} has ${list(data.classNames)}; its classifier does not apply: use its ` +
      `encoder only (embeddings, kNN) or another model`;
  }
  return undefined;
}
