/**
 * Embeddings of a dataset with an exported encoder, in files other tools read: the features h
 * of every image as a NumPy `.npy` file (float32, shape [n, d], `numpy.load`), a CSV with one
 * row per image in the same order (`index,split,path,label,class`: the file path for image
 * folders, `mnist:test:12` style otherwise; label -1 for an unlabelled image), and an HTML page
 * of nearest neighbours (cosine similarity of h) for a sample of images, every image inline as
 * a small PNG.
 *
 * @example
 * ```ts
 * import { embeddingCsv, npyBytes, parseNpy } from "./embed.ts";
 * const bytes = npyBytes(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]); // numpy.load reads it
 * parseNpy(bytes).shape; // [2, 3]
 * embeddingCsv([{ index: 0, split: "test", path: "cats/a.png", label: 0, className: "cats" }]);
 * // "index,split,path,label,class\n0,test,cats/a.png,0,cats\n"
 * ```
 *
 * @module
 */
import { escapeHtml } from "../html.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { knnNeighbours } from "../eval/knn.ts";
import { imagesToPng } from "../augment/grid_png.ts";
import { Rng } from "../rng.ts";

/** One image of an embedding: where it is in the `.npy` file and what it is. */
export interface EmbeddingRow {
  /** Row of the `.npy` file. */
  index: number;
  /** "train" or "test". */
  split: string;
  /** The image file (folders) or `<dataset>:<split>:<i>`. */
  path: string;
  /** Class index, or -1 when unlabelled. */
  label: number;
  /** Class name ("" when unlabelled). */
  className: string;
}

/** The bytes of a NumPy `.npy` file (format 1.0) holding `data` as little-endian float32. */
export function npyBytes(data: Float32Array, shape: number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) {
    throw new Error(`npyBytes: shape [${shape}] does not hold ${data.length} values`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
  // 64 and ended by a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + data.length * 4);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return out;
}

/** Reads a float32 `.npy` file written by {@linkcode npyBytes} (or by NumPy, C order). */
export function parseNpy(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  const magic = new TextDecoder().decode(bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error("parseNpy: not a .npy file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`parseNpy: only little-endian float32 in C order, got ${header.trim()}`);
  }
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",")
    .map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const offset = start + headerLength;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  return { data, shape };
}

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
function field(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The CSV of an embedding's rows: `index,split,path,label,class`. */
export function embeddingCsv(rows: readonly EmbeddingRow[]): string {
  const lines = ["index,split,path,label,class"];
  for (const r of rows) {
    lines.push([r.index, r.split, r.path, r.label, r.className].map(field).join(","));
  }
  return lines.join("\n") + "\n";
}

/** The rows of the images of `data` (split `split`), starting at row `first`. */
export function embeddingRows(
  data: ImageDataset,
  split: string,
  spec: string,
  first = 0,
  count = data.count,
): EmbeddingRow[] {
  return Array.from({ length: count }, (_, i) => ({
    index: first + i,
    split,
    path: data.paths?.[i] ?? `${spec}:${split}:${i}`,
    label: data.labels[i],
    className: data.labels[i] >= 0 ? data.classNames[data.labels[i]] : "",
  }));
}

/** What {@linkcode neighbourPage} shows. */
export interface NeighbourPageInput {
  /** A title (the model and the dataset). */
  title: string;
  /** Every image, row-major NHWC in [0, 1], in the rows' order. */
  images: Float32Array;
  shape: [number, number, number];
  /** h of every image, `dim` values each. */
  features: Float32Array;
  dim: number;
  rows: readonly EmbeddingRow[];
  /** Images shown with their neighbours (default 24), drawn with `seed` (default 0). */
  sample?: number;
  seed?: number;
  /** Neighbours per image (default 8). */
  k?: number;
}

/**
 * An HTML page (one file, no outside resource) of the `k` nearest neighbours by cosine
 * similarity of h of a seeded sample of images, each with its class, path and similarity; a
 * neighbour of the same class is framed green, another class red. With the share of
 * neighbours of the same class (over labelled images) at the top.
 */
export async function neighbourPage(input: NeighbourPageInput): Promise<string> {
  const [h, w, c] = input.shape;
  const n = input.rows.length;
  const k = Math.min(input.k ?? 8, n - 1);
  const picks = new Rng(input.seed ?? 0).fork("neighbour-page").permutation(n)
    .slice(0, Math.min(input.sample ?? 24, n));
  const size = h * w * c;
  const queries = new Float32Array(picks.length * input.dim);
  picks.forEach((p, i) =>
    queries.set(input.features.subarray(p * input.dim, (p + 1) * input.dim), i * input.dim)
  );
  const near = k > 0
    ? knnNeighbours(input.features, queries, input.dim, k + 1)
    : { k: 0, indices: new Int32Array(0), similarities: new Float32Array(0) };
  const scale = Math.max(1, Math.floor(56 / Math.max(h, w)));
  const png = async (i: number) => {
    const bytes = await imagesToPng(input.images.subarray(i * size, (i + 1) * size), 1, h, w, c, {
      columns: 1,
      scale,
      separator: 0,
    });
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return `data:image/png;base64,${btoa(binary)}`;
  };
  let same = 0;
  let counted = 0;
  const sections: string[] = [];
  for (let q = 0; q < picks.length; q++) {
    const query = picks[q];
    const row = input.rows[query];
    const found: { i: number; s: number }[] = [];
    for (let j = 0; j < near.k && found.length < k; j++) {
      const i = near.indices[q * near.k + j];
      if (i !== query) found.push({ i, s: near.similarities[q * near.k + j] });
    }
    const cells: string[] = [];
    for (const { i, s } of found) {
      const r = input.rows[i];
      const known = row.label >= 0 && r.label >= 0;
      if (known) {
        counted++;
        if (r.label === row.label) same++;
      }
      const frame = !known ? "" : r.label === row.label ? " same" : " other";
      cells.push(
        `<figure class="n${frame}"><img src="${await png(i)}" alt="${escapeHtml(r.path)}" ` +
          `title="${escapeHtml(r.path)}"><figcaption>${escapeHtml(r.className || "?")}<br>` +
          `${s.toFixed(3)}</figcaption></figure>`,
      );
    }
    sections.push(
      `<section><figure class="q"><img src="${await png(query)}" alt="${
        escapeHtml(row.path)
      }" title="${escapeHtml(row.path)}"><figcaption><b>${
        escapeHtml(row.className || "?")
      }</b><br>${escapeHtml(row.path)}</figcaption></figure>${cells.join("")}</section>`,
    );
  }
  const agreement = counted > 0
    ? `${(100 * same / counted).toFixed(1)}% of the neighbours shown share the class of their image`
    : "no labels to compare";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
section { display: flex; gap: 6px; align-items: flex-start; margin: 10px 0; }
figure { margin: 0; text-align: center; font-size: 11px; max-width: ${w * scale + 12}px;
  overflow-wrap: anywhere; }
figure img { image-rendering: pixelated; display: block; margin: 0 auto; border: 3px solid #ccc; }
figure.q { margin-right: 18px; }
figure.q img { border-color: #333; }
figure.same img { border-color: #2a9d3a; }
figure.other img { border-color: #d33; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>${n.toLocaleString("en")} images, features h of ${input.dim} numbers; each row: an image, then
its ${k} nearest neighbours by cosine similarity of h (the number under each). Green: same class,
red: another class. ${agreement}.</p>
${sections.join("\n")}
</body></html>
`;
}

/** Options of {@linkcode embedToFiles}. */
export interface EmbedOptions {
  /** The dataset's spec, for the paths of images that are not files ("mnist"). */
  spec: string;
  /** Images per split at most (default all). */
  limit?: number;
  /** Images shown with their neighbours on the page (default 24), and the seed that draws them. */
  sample?: number;
  seed?: number;
  /** Neighbours per image on the page (default 8). */
  k?: number;
  /** The page's title. */
  title?: string;
}

/** The three files of an embedding: `FILE.npy`, `FILE.csv` and `FILE.html` from `--out FILE`. */
export function embeddingFiles(out: string): { npy: string; csv: string; html: string } {
  const stem = out.replace(/\.npy$/i, "");
  return { npy: `${stem}.npy`, csv: `${stem}.csv`, html: `${stem}.html` };
}

/**
 * Writes h of every image of `parts` (in order) with `encoder` (an exported model's
 * `features`): the `.npy`, the CSV and the neighbour page of {@linkcode embeddingFiles}.
 */
export async function embedToFiles(
  features: (
    images: Float32Array,
    count: number,
  ) => Promise<{ features: Float32Array; dim: number }>,
  parts: readonly { split: string; data: ImageDataset }[],
  out: string,
  options: EmbedOptions,
): Promise<{ files: ReturnType<typeof embeddingFiles>; count: number; dim: number }> {
  const files = embeddingFiles(out);
  const chunks: Float32Array[] = [];
  const rows: EmbeddingRow[] = [];
  const images: Float32Array[] = [];
  let dim = 0;
  for (const { split, data } of parts) {
    const count = Math.min(data.count, options.limit ?? data.count);
    const size = data.height * data.width * data.channels;
    const own = data.images.subarray(0, count * size);
    const h = await features(own, count);
    dim = h.dim;
    chunks.push(h.features);
    images.push(own);
    rows.push(...embeddingRows(data, split, options.spec, rows.length, count));
  }
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const pixels = new Float32Array(images.reduce((n, c) => n + c.length, 0));
  at = 0;
  for (const c of images) {
    pixels.set(c, at);
    at += c.length;
  }
  const first = parts[0].data;
  await Deno.writeFile(files.npy, npyBytes(all, [rows.length, dim]));
  await Deno.writeTextFile(files.csv, embeddingCsv(rows));
  await Deno.writeTextFile(
    files.html,
    await neighbourPage({
      title: options.title ?? `Nearest neighbours in h: ${options.spec}`,
      images: pixels,
      shape: [first.height, first.width, first.channels],
      features: all,
      dim,
      rows,
      sample: options.sample,
      seed: options.seed,
      k: options.k,
    }),
  );
  return { files, count: rows.length, dim };
}
