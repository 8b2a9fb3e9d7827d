/**
 * A few bytes of WebAssembly, written by hand: the encoding helpers, the SIMD instructions and
 * the loop idioms that this project's own kernels (`simd_at_b_wasm.ts`,
 * `max_pool_grad_simd_wasm.ts`) assemble their modules from, and the instantiation of such a
 * module over the wasm backend's own memory, so that it reads and writes tensors where they
 * lie. Every module imports one memory, `env.memory`, and exports functions of i32 parameters.
 *
 * @example
 * ```ts
 * import { functionBody, I32, moduleBytes, op } from "./wasm_simd_builder.ts";
 * // (a, b) => a + b
 * const add = functionBody([], [...op.localGet(0), ...op.localGet(1), ...op.i32Add]);
 * const bytes = moduleBytes(false, 2, [{ name: "add", body: add }], [I32]);
 * const { add: f } = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
 *   env: { memory: new WebAssembly.Memory({ initial: 1 }) },
 * }).exports as { add: (a: number, b: number) => number };
 * if (f(2, 3) !== 5) throw new Error("not assembled");
 * ```
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (the immediates of `i32.const`). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A byte vector prefixed by its length, as sections and names are. */
export function sized(bytes: number[]): number[] {
  return [...uleb(bytes.length), ...bytes];
}

/** A UTF-8 name. */
export function name(s: string): number[] {
  return sized([...new TextEncoder().encode(s)]);
}

/** The i32 value type. */
export const I32 = 0x7f;
/** The f32 value type. */
export const F32 = 0x7d;
/** The v128 value type. */
export const V128 = 0x7b;

/** The instructions our kernels use (memory instructions take 4-byte alignment hints). */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Eqz: [0x45],
  i32Or: [0x72],
  f32Load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f32Const: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  v128Load: (offset: number) => [0xfd, 0x00, 2, ...uleb(offset)],
  v128Load32Splat: (offset: number) => [0xfd, 0x09, 2, ...uleb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 2, ...uleb(offset)],
  f32x4Splat: [0xfd, 0x13],
  f32x4ExtractLane: (lane: number) => [0xfd, 0x1f, lane],
  f32Add: [0x92],
  f32x4Nearest: [0xfd, 0x6a],
  f32x4Sub: [0xfd, 0xe5, 0x01],
  f32x4Neg: [0xfd, 0xe1, 0x01],
  f32x4Max: [0xfd, 0xe9, 0x01],
  f32x4Pmax: [0xfd, 0xeb, 0x01], // b if a < b, else a: one maxps (f32x4.max is a sequence)
  i32x4TruncSatF32x4S: [0xfd, 0xf8, 0x01],
  i32x4Splat: [0xfd, 0x11],
  i32x4Add: [0xfd, 0xae, 0x01],
  i32x4Shl: [0xfd, 0xab, 0x01],
  f32x4Ne: [0xfd, 0x42],
  f32x4Gt: [0xfd, 0x44],
  v128Not: [0xfd, 0x4d],
  v128And: [0xfd, 0x4e],
  v128AndNot: [0xfd, 0x4f], // a & ~b
  v128Or: [0xfd, 0x50],
  v128Bitselect: [0xfd, 0x52], // (a & c) | (b & ~c)
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  f32x4Div: [0xfd, 0xe7, 0x01],
  f32x4Sqrt: [0xfd, 0xe3, 0x01],
  f32x4RelaxedMadd: [0xfd, 0x85, 0x02], // a·b + c, fused where the CPU has FMA
  f64Const: (v: number) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  f64x2Splat: [0xfd, 0x14],
  f64x2Add: [0xfd, 0xf0, 0x01],
  f64x2Mul: [0xfd, 0xf2, 0x01],
  f32x4DemoteF64x2Zero: [0xfd, 0x5e], // two doubles to the low two floats, zeros above
  v128Store64Lane: (offset: number, lane: number) => [0xfd, 0x5b, 3, ...uleb(offset), lane],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
};

/** `local += step` (i32 locals). */
export const advance = (local: number, step: number): number[] => [
  ...op.localGet(local),
  ...op.localGet(step),
  ...op.i32Add,
  ...op.localSet(local),
];

/** `local += bytes` for a constant `bytes` (i32 locals). */
export const advanceBy = (local: number, bytes: number): number[] => [
  ...op.localGet(local),
  ...op.i32Const(bytes),
  ...op.i32Add,
  ...op.localSet(local),
];

/**
 * Opens a block and leaves it at once when any of the `counters` (i32 locals) is 0: the guard
 * before count-down loops, which run at least once. Close it with `op.end`.
 */
export const blockUnlessAnyZero = (...counters: number[]): number[] => [
  ...op.block,
  ...counters.flatMap((c, i) => [...op.localGet(c), ...op.i32Eqz, ...(i > 0 ? op.i32Or : [])]),
  ...op.brIf(0),
];

/** `if (--counter !== 0) continue` the innermost loop (the instructions before its `end`). */
export const loopWhileCountingDown = (counter: number): number[] => [
  ...op.localGet(counter),
  ...op.i32Const(1),
  ...op.i32Sub,
  ...op.localTee(counter),
  ...op.brIf(0),
];

/** A function body: its locals as `[count, type]` runs, then `code` and the final `end`. */
export function functionBody(locals: [number, number][], code: number[]): number[] {
  const decls = locals.flatMap(([count, type]) => [...uleb(count), type]);
  return sized([...uleb(locals.length), ...decls, ...code, ...op.end]);
}

/** One exported function of a module. */
export interface ExportedFunction {
  name: string;
  /** From {@linkcode functionBody}. */
  body: number[];
  /** Its parameter types, when not the module's i32 parameters. */
  params?: number[];
  /** Its result types, when not the module's. */
  results?: number[];
}

/**
 * A module whose functions take `params` i32 parameters and return `results` (unless a function
 * says otherwise); its memory is imported as `env.memory` (`shared` as the backend's is).
 */
export function moduleBytes(
  shared: boolean,
  params: number,
  functions: ExportedFunction[],
  results: number[] = [],
): Uint8Array {
  const section = (id: number, body: number[]) => [id, ...sized(body)];
  const signature = (f: ExportedFunction) =>
    [0x60, ...sized(f.params ?? new Array(params).fill(I32)), ...sized(f.results ?? results)]
      .join(",");
  const types = [...new Set(functions.map(signature))];
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...uleb(types.length), ...types.flatMap((t) => t.split(",").map(Number))]),
    ...section(2, [...uleb(1), ...name("env"), ...name("memory"), 0x02, ...limits]),
    ...section(3, [
      ...uleb(functions.length),
      ...functions.flatMap((f) => uleb(types.indexOf(signature(f)))),
    ]),
    ...section(7, [
      ...uleb(functions.length),
      ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
    ]),
    ...section(10, [...uleb(functions.length), ...functions.flatMap((f) => f.body)]),
  ]);
}

/** The backend's `WebAssembly.Memory` (its heap). */
export function heapMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as { asm?: { memory?: WebAssembly.Memory } };
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("the wasm backend does not expose its WebAssembly.Memory (Module.asm.memory)");
  }
  return memory;
}

/** Per heap and key, the instantiated exports. */
const instances = new WeakMap<WebAssembly.Memory, Map<string, unknown>>();

/**
 * The exports of the module `bytes(shared)` instantiated over the backend's heap, once per heap
 * and `key`.
 */
export function instantiateOnHeap<T>(
  backend: BackendWasm,
  key: string,
  bytes: (shared: boolean) => Uint8Array,
): T {
  const memory = heapMemory(backend);
  let byKey = instances.get(memory);
  if (byKey === undefined) instances.set(memory, byKey = new Map());
  let fns = byKey.get(key);
  if (fns === undefined) {
    const shared = typeof SharedArrayBuffer !== "undefined" &&
      memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(bytes(shared) as BufferSource);
    fns = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byKey.set(key, fns);
  }
  return fns as T;
}
