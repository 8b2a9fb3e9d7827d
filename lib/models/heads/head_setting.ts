/**
 * The projection head as a setting: plain JSON for a recipe or a notebook's
 * configuration cell, and the short text form the commands take
 * (`--head none`, `--head linear`, `--head linear:16`, `--head mlp:32,16`,
 * `--head mlp-bn:128,64`, `--head article`).
 *
 * In the text form an MLP lists the width of every layer; the last is the
 * width of z, the ones before it are hidden ReLU layers — or the word
 * `classes` for one output per class (`mlp:32,16,classes` is the article's
 * head, also called `article`). A single width (`mlp:64`) is one hidden layer
 * with one output per class. A head whose output width is not given
 * (`linear`, `mlp:64`, `article`) outputs one value per class, so it can be
 * kept as the classifier after pre-training (the article's "same head" arm).
 * `mlp-bn` is the same MLP with batch normalisation after every hidden layer
 * (dense without bias → BN → ReLU), SimCLR's projection head.
 *
 * @example
 * ```ts
 * import { headSettingText, parseHeadSetting } from "./head_setting.ts";
 * const head = parseHeadSetting("mlp:32,16"); // { kind: "mlp", hidden: [32], outputDim: 16 }
 * headSettingText(head); // "mlp:32,16"
 * headSettingText(parseHeadSetting("article")); // "mlp:32,16,classes"
 * parseHeadSetting("mlp-bn:128,64"); // { kind: "mlp", hidden: [128], outputDim: 64, batchNorm: true }
 * ```
 *
 * @module
 */
import type { ProjectionHeadConfig } from "./projection_heads.ts";

/** A projection head without its input width (the backbone decides that). */
export interface HeadSetting {
  /** "none": z = h; "linear": one dense layer; "mlp": hidden ReLU layers, then a linear output. */
  kind: "none" | "linear" | "mlp";
  /** Widths of the hidden ReLU layers of an MLP head. */
  hidden?: number[];
  /** Width of z; one per class when omitted ("none": the width of h). */
  outputDim?: number;
  /** MLP: batch normalisation after every hidden layer (SimCLR's head; text form `mlp-bn`). */
  batchNorm?: boolean;
  /** Dropout rate before the last dense layer (classifier heads; JSON only). */
  dropout?: number;
}

/** The article's head: 32 → 16 → one output per class, ReLU between (the default). */
export const ARTICLE_HEAD: Readonly<HeadSetting> = Object.freeze({
  kind: "mlp",
  hidden: [32, 16],
});

/** What `--head` accepts, for usage lines and errors. */
export const HEAD_SETTING_FORMS =
  "none, linear, linear:D, mlp:W1,...,D, mlp:W1,...,classes, mlp-bn:W1,...,D or article";

/**
 * Parses the text form of a head (see the module doc). Throws a `RangeError`
 * that quotes the text and lists the accepted forms.
 */
export function parseHeadSetting(text: string): HeadSetting {
  const spec = text.trim().toLowerCase();
  const bad = (why: string) =>
    new RangeError(`head "${text}": ${why}; use ${HEAD_SETTING_FORMS} (e.g. mlp:32,16)`);
  if (spec === "none") return { kind: "none" };
  if (spec === "article") return { ...ARTICLE_HEAD, hidden: [...ARTICLE_HEAD.hidden!] };
  const m = /^(linear|mlp|mlp-bn)(?::(.*))?$/.exec(spec);
  if (!m) throw bad("unknown kind");
  const widths = m[2] === undefined ? [] : m[2].split(",").map((w) => w.trim());
  const mlp = m[1] !== "linear";
  const bn = m[1] === "mlp-bn" ? { batchNorm: true } : {};
  const perClass = mlp && widths.length > 1 && widths.at(-1) === "classes";
  if (perClass) widths.pop();
  const numbers = widths.map((w) => {
    const n = Number(w);
    if (w === "" || !Number.isInteger(n) || n < 1) {
      throw bad(`width "${w}" is not a positive integer`);
    }
    return n;
  });
  if (m[1] === "linear") {
    if (numbers.length > 1) throw bad("a linear head has one width, its output");
    return numbers.length ? { kind: "linear", outputDim: numbers[0] } : { kind: "linear" };
  }
  if (numbers.length === 0) throw bad("an MLP head needs its widths");
  if (perClass || numbers.length === 1) return { kind: "mlp", hidden: numbers, ...bn };
  return { kind: "mlp", hidden: numbers.slice(0, -1), outputDim: numbers.at(-1), ...bn };
}

/** The text form of a head setting (inverse of {@linkcode parseHeadSetting}). */
export function headSettingText(head: HeadSetting): string {
  if (head.kind === "none") return "none";
  if (head.kind === "linear") return head.outputDim ? `linear:${head.outputDim}` : "linear";
  const widths = [...(head.hidden ?? []), head.outputDim ?? "classes"];
  return `${head.batchNorm ? "mlp-bn" : "mlp"}:${widths.join(",")}`;
}

/** The head's output width for backbone features of `inputDim` and `numClasses` classes. */
export function headOutputWidth(head: HeadSetting, inputDim: number, numClasses: number): number {
  if (head.kind === "none") return inputDim;
  return head.outputDim ?? numClasses;
}

/** The full `ProjectionHeadConfig` of a setting on features of `inputDim`. */
export function headConfigFor(
  head: HeadSetting,
  inputDim: number,
  numClasses: number,
  seed?: number,
): ProjectionHeadConfig {
  return {
    kind: head.kind,
    inputDim,
    hidden: head.hidden,
    outputDim: headOutputWidth(head, inputDim, numClasses),
    ...(head.batchNorm ? { batchNorm: true } : {}),
    ...(head.dropout ? { dropout: head.dropout } : {}),
    seed,
  };
}
