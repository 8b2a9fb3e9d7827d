/**
 * The IDX file format of MNIST (and Fashion-MNIST's original release).
 *
 * Layout: two zero bytes; a type byte (`0x08` = unsigned byte, the only type
 * MNIST uses and the only one read here); a byte with the number of
 * dimensions D; D big-endian uint32 sizes; then the values, row-major, with
 * nothing after them. Every problem (wrong magic, unsupported type, truncated
 * header or data, trailing bytes, wrong number of dimensions) throws an
 * `Error` whose message starts with the file's name.
 *
 * @example
 * ```ts
 * import { readIdxImages } from "./idx.ts";
 * import { MNIST_DATA_DIR } from "./mnist.ts";
 * const bytes = await Deno.readFile(new URL("train-images-idx3-ubyte", MNIST_DATA_DIR));
 * const { count, height, width, data } = readIdxImages(bytes, "train-images-idx3-ubyte");
 * ```
 *
 * @module
 */

/** The IDX type codes, for error messages. */
const IDX_TYPES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** A parsed IDX file: its shape and its values (unsigned bytes), row-major. */
export interface IdxArray {
  /** The size of each dimension, outermost first, e.g. `[60000, 28, 28]`. */
  shape: number[];
  /** The values; a view into the input bytes, not a copy. */
  data: Uint8Array;
}

/** IDX images: `count` images of `height` x `width` bytes, row-major. */
export interface IdxImages {
  /** The number of images. */
  count: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
  /** `count * height * width` pixel bytes (0..255); a view into the input. */
  data: Uint8Array;
}

/** IDX labels: one byte per example. */
export interface IdxLabels {
  /** The number of labels. */
  count: number;
  /** The labels; a view into the input. */
  data: Uint8Array;
}

function hex(n: number, digits: number): string {
  return "0x" + n.toString(16).padStart(digits, "0");
}

/**
 * Parses an IDX file of unsigned bytes. `name` (a file name) starts every
 * error message. The returned `data` is a view into `bytes`.
 */
export function parseIdx(bytes: Uint8Array, name = "<bytes>"): IdxArray {
  if (bytes.length < 4) {
    throw new Error(
      `${name}: truncated header: ${bytes.length} bytes, an IDX file starts with a 4-byte magic number`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `${name}: bad magic number ${hex(view.getUint32(0), 8)}; not an IDX file ` +
        `(it must start with two zero bytes, e.g. 0x00000803)`,
    );
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const what = IDX_TYPES[type]
      ? `data type ${hex(type, 2)} (${IDX_TYPES[type]})`
      : `unknown data type ${hex(type, 2)}`;
    throw new Error(
      `${name}: unsupported IDX ${what}; only 0x08 (unsigned byte) is supported`,
    );
  }
  const dims = bytes[3];
  if (dims === 0) throw new Error(`${name}: the IDX header declares 0 dimensions`);
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: truncated header: ${bytes.length} bytes, but the header of a ${dims}-dimensional ` +
        `IDX file takes ${headerBytes}`,
    );
  }
  const shape: number[] = [];
  let size = 1;
  for (let i = 0; i < dims; i++) {
    const n = view.getUint32(4 + 4 * i);
    shape.push(n);
    size *= n;
  }
  const available = bytes.length - headerBytes;
  if (available < size) {
    throw new Error(
      `${name}: truncated data: shape [${shape.join(", ")}] needs ${size} bytes after the ` +
        `${headerBytes}-byte header, the file has only ${available}`,
    );
  }
  if (available > size) {
    throw new Error(
      `${name}: ${available - size} trailing bytes after the data of shape ` +
        `[${shape.join(", ")}] (file is ${bytes.length} bytes, expected ${headerBytes + size}); ` +
        `corrupted or concatenated file?`,
    );
  }
  return { shape, data: bytes.subarray(headerBytes, headerBytes + size) };
}

/** Parses an IDX images file: exactly 3 dimensions (count x height x width). */
export function readIdxImages(bytes: Uint8Array, name = "<bytes>"): IdxImages {
  const { shape, data } = parseIdx(bytes, name);
  if (shape.length !== 3) {
    throw new Error(
      `${name}: expected an images file with 3 dimensions (count x height x width), got ` +
        `${shape.length} (shape [${shape.join(", ")}])` +
        (shape.length === 1 ? "; is this a labels file?" : ""),
    );
  }
  return { count: shape[0], height: shape[1], width: shape[2], data };
}

/**
 * Parses an IDX labels file: exactly 1 dimension. Every label must be below
 * `numClasses` (default 256: any byte); MNIST's loader passes 10.
 */
export function readIdxLabels(bytes: Uint8Array, name = "<bytes>", numClasses = 256): IdxLabels {
  const { shape, data } = parseIdx(bytes, name);
  if (shape.length !== 1) {
    throw new Error(
      `${name}: expected a labels file with 1 dimension, got ${shape.length} ` +
        `(shape [${shape.join(", ")}])` + (shape.length === 3 ? "; is this an images file?" : ""),
    );
  }
  if (numClasses < 256) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] >= numClasses) {
        throw new Error(
          `${name}: label ${data[i]} at index ${i} is out of range 0..${numClasses - 1}`,
        );
      }
    }
  }
  return { count: shape[0], data };
}
