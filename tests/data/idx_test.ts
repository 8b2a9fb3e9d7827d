import { parseIdx, readIdxImages, readIdxLabels } from "../../lib/data/idx.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { makeIdx } from "./idx_helpers.ts";

Deno.test("idx: parses a hand-made 3-D file", () => {
  const pixels = Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
  const bytes = makeIdx([2, 3, 4], pixels);
  // The exact bytes, so the test does not only check makeIdx against itself.
  assertEquals(Array.from(bytes.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
  const { shape, data } = parseIdx(bytes);
  assertEquals(shape, [2, 3, 4]);
  assertEquals(data, pixels);
  const images = readIdxImages(bytes, "x");
  assertEquals([images.count, images.height, images.width], [2, 3, 4]);
  assertEquals(images.data[23], 230);
});

Deno.test("idx: reads big-endian sizes above 255 and a view at an offset", () => {
  const labels = Array.from({ length: 300 }, (_, i) => i % 10);
  const inner = makeIdx([300], labels);
  const padded = new Uint8Array(inner.length + 7);
  padded.set(inner, 7);
  const parsed = readIdxLabels(padded.subarray(7), "labels", 10);
  assertEquals(parsed.count, 300);
  assertEquals(parsed.data, labels);
});

Deno.test("idx: bad magic names the file and the problem", () => {
  const bytes = makeIdx([2], [1, 2]);
  bytes[0] = 0x1f; // e.g. a gzip file
  const err = assertThrows(
    () => parseIdx(bytes, "mnist train-images-idx3-ubyte"),
    "mnist train-images-idx3-ubyte",
    "bad magic number 0x1f000801",
    "not an IDX file",
  );
  assert(err instanceof Error);
  // The default name still appears.
  assertThrows(() => parseIdx(bytes), "<bytes>", "bad magic");
});

Deno.test("idx: unsupported data types are refused by name", () => {
  assertThrows(
    () => parseIdx(makeIdx([1], [0, 0, 0, 0], 0x0d), "f.idx"),
    "f.idx",
    "unsupported",
    "0x0d (float32)",
    "only 0x08",
  );
  assertThrows(() => parseIdx(makeIdx([1], [0], 0x42), "g.idx"), "g.idx", "unknown data type 0x42");
});

Deno.test("idx: truncated header", () => {
  assertThrows(() => parseIdx(new Uint8Array([0, 0]), "tiny"), "tiny", "truncated header");
  const bytes = makeIdx([60000, 28, 28], []).subarray(0, 10); // 3 dims need a 16-byte header
  assertThrows(() => parseIdx(bytes, "short"), "short", "truncated header", "takes 16");
  assertThrows(() => parseIdx(new Uint8Array([0, 0, 8, 0]), "zero"), "zero", "0 dimensions");
});

Deno.test("idx: truncated data and trailing bytes", () => {
  const full = makeIdx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  assertThrows(
    () => parseIdx(full.subarray(0, full.length - 3), "cut"),
    "cut",
    "truncated data",
    "needs 8 bytes",
    "only 5",
  );
  const longer = new Uint8Array(full.length + 4);
  longer.set(full);
  assertThrows(() => parseIdx(longer, "long"), "long", "4 trailing bytes");
});

Deno.test("idx: images and labels files must have the right number of dimensions", () => {
  const labels = makeIdx([3], [1, 2, 3]);
  const images = makeIdx([1, 2, 2], [0, 0, 0, 0]);
  assertThrows(
    () => readIdxImages(labels, "train-labels-idx1-ubyte"),
    "train-labels-idx1-ubyte",
    "3 dimensions",
    "got 1",
    "labels file?",
  );
  assertThrows(
    () => readIdxLabels(images, "train-images-idx3-ubyte"),
    "train-images-idx3-ubyte",
    "1 dimension",
    "got 3",
    "images file?",
  );
  assertThrows(
    () => readIdxImages(makeIdx([2, 2], [0, 0, 0, 0]), "flat"),
    "flat",
    "3 dimensions",
    "got 2",
  );
});

Deno.test("idx: labels out of the class range are refused", () => {
  const bytes = makeIdx([4], [0, 9, 12, 3]);
  assertThrows(
    () => readIdxLabels(bytes, "lbl", 10),
    "lbl",
    "label 12 at index 2",
    "0..9",
  );
  assertEquals(readIdxLabels(bytes, "lbl").data, [0, 9, 12, 3]); // any byte by default
});
