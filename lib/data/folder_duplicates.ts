/**
 * Byte-identical images: a SHA-256 of every file's bytes (cheap next to
 * decoding it), and {@linkcode findDuplicates}, which finds test images whose
 * bytes equal a training image's — the same picture on both sides of the
 * split silently inflates test accuracy — and copies within the training set.
 *
 * @example
 * ```ts
 * import { findDuplicates } from "./folder_duplicates.ts";
 * const d = findDuplicates(
 *   [{ file: "a/x.png", hash: "01" }, { file: "a/y.png", hash: "02" }],
 *   [{ file: "a/z.png", hash: "01" }],
 * );
 * d.testInTrain; // 1
 * d.testInTrainExamples; // [{ file: "a/z.png", sameAs: "a/x.png" }]
 * ```
 *
 * @module
 */
import type { DuplicatePair, DuplicateReport } from "./folder_report.ts";

/** The SHA-256 of `data` (a string is hashed as UTF-8), as 64 hex digits. */
export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The SHA-256 (hex) of a file's bytes. */
export async function fileHash(file: string): Promise<string> {
  return await sha256Hex(await Deno.readFile(file));
}

/** A file and the hash of its bytes (null: not hashed, never a duplicate). */
export interface HashedFile {
  file: string;
  hash: string | null;
}

/**
 * Counts the `test` files whose hash is that of some `train` file, and the
 * `train` files whose hash is that of an earlier `train` file; keeps the
 * first `examples` pairs of each, every one with the first training file of
 * that content.
 */
export function findDuplicates(
  train: readonly HashedFile[],
  test: readonly HashedFile[],
  examples = 5,
): DuplicateReport {
  const first = new Map<string, string>();
  const withinTrainExamples: DuplicatePair[] = [];
  let withinTrain = 0;
  for (const { file, hash } of train) {
    if (hash === null) continue;
    const sameAs = first.get(hash);
    if (sameAs === undefined) {
      first.set(hash, file);
    } else {
      withinTrain++;
      if (withinTrainExamples.length < examples) withinTrainExamples.push({ file, sameAs });
    }
  }
  const testInTrainExamples: DuplicatePair[] = [];
  let testInTrain = 0;
  for (const { file, hash } of test) {
    const sameAs = hash === null ? undefined : first.get(hash);
    if (sameAs === undefined) continue;
    testInTrain++;
    if (testInTrainExamples.length < examples) testInTrainExamples.push({ file, sameAs });
  }
  return { testInTrain, testInTrainExamples, withinTrain, withinTrainExamples };
}
