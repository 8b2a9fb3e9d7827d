/** Test helpers: hand-made IDX files. @module */

/** A hand-made IDX file: magic 00 00 <type> <dims>, big-endian sizes, then `data`. */
export function makeIdx(shape: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out.set([0, 0, type, shape.length]);
  const view = new DataView(out.buffer);
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n));
  out.set(Array.from(data), 4 + 4 * shape.length);
  return out;
}
