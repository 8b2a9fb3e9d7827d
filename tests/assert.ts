/**
 * Minimal assertions for `deno test` (JSR's `@std/assert` cannot be reached
 * from our machines, so the project carries these few helpers).
 *
 * @module
 */

/** Throws when `condition` is falsy. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || Array.isArray(a) || Array.isArray(b)) {
    const x = Array.from(a as ArrayLike<unknown>);
    const y = Array.from(b as ArrayLike<unknown>);
    return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]));
  }
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return deepEqual(ka, kb) &&
    ka.every((k) =>
      deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
}

/** Deep equality for primitives, arrays, typed arrays and plain objects. */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEqual(actual, expected)) {
    const show = (v: unknown) =>
      JSON.stringify(ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>) : v);
    throw new Error(
      `${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** `|actual - expected| <= tolerance`. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-6,
  message?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(
      `${message ? message + ": " : ""}expected ${expected} ± ${tolerance}, got ${actual}`,
    );
  }
}

/** Calls `fn`, expects it to throw an Error whose message contains every `parts` string. */
export function assertThrows(fn: () => unknown, ...parts: string[]): Error {
  try {
    fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    for (const p of parts) {
      if (!err.message.includes(p)) {
        throw new Error(`expected the error to mention "${p}", got: ${err.message}`);
      }
    }
    return err;
  }
  throw new Error(`expected an error mentioning ${JSON.stringify(parts)}, but nothing was thrown`);
}

/** Async variant of `assertThrows`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  ...parts: string[]
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    for (const p of parts) {
      if (!err.message.includes(p)) {
        throw new Error(`expected the error to mention "${p}", got: ${err.message}`);
      }
    }
    return err;
  }
  throw new Error(`expected a rejection mentioning ${JSON.stringify(parts)}, but none came`);
}
