/**
 * A checkpoint's fingerprint: the settings it was made with, as sorted text (what a reader
 * compares with the settings of the run), and their SHA-256; and the SHA-256 of a file's bytes,
 * as the manifest records it.
 *
 * @example
 * ```ts
 * import { fingerprintOf, settingsText } from "./checkpoint_fingerprint.ts";
 * settingsText({ temperature: 0.2, head: "linear", seed: undefined });
 * // { head: "linear", temperature: "0.2" }
 * const { sha256 } = fingerprintOf({ head: "linear", temperature: 0.2 });
 * sha256.length; // 64 hex digits, the same for the same settings in any order
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { CheckpointManifest } from "./checkpoint_format.ts";

/** The SHA-256 of `bytes`, in hex. */
export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A setting as the manifest records it: text as is, anything else as sorted JSON. */
function settingText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
}

/** Settings as text, sorted by name, `undefined` values left out. */
export function settingsText(settings: Record<string, unknown> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.keys(settings).sort().filter((k) => settings[k] !== undefined).map((
      k,
    ) => [k, settingText(settings[k])]),
  );
}

/** The fingerprint of settings: their text and its SHA-256. */
export function fingerprintOf(
  settings: Record<string, unknown> = {},
): CheckpointManifest["fingerprint"] {
  const text = settingsText(settings);
  return { settings: text, sha256: sha256(new TextEncoder().encode(JSON.stringify(text))) };
}
