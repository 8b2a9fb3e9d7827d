/**
 * The self-supervised method as a setting: its name ({@linkcode SslMethod}: SimCLR, BYOL,
 * SimSiam, Barlow Twins or VICReg), the check of a name, and what each method's training needs
 * (a predictor, a momentum network, a loss split by rows). Plain data, no tfjs: the commands'
 * flags and the notebooks' configuration check a method with it. The objectives themselves are
 * `ssl_objective.ts`.
 *
 * @example
 * ```ts
 * import { parseSslMethod, SSL_METHODS, usesPredictor } from "./ssl_method.ts";
 * SSL_METHODS.join(", "); // "simclr, byol, simsiam, barlow, vicreg"
 * usesPredictor(parseSslMethod("simsiam")); // true
 * ```
 *
 * @module
 */

/** The self-supervised methods pre-training knows. */
export type SslMethod = "simclr" | "byol" | "simsiam" | "barlow" | "vicreg";

/** Every method, in the order the help and the errors list them. */
export const SSL_METHODS: readonly SslMethod[] = Object.freeze([
  "simclr",
  "byol",
  "simsiam",
  "barlow",
  "vicreg",
]);

/**
 * `value` as a method, or a `RangeError` of one line naming the allowed ones, e.g.
 * `method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"`.
 */
export function parseSslMethod(value: unknown, where = "method"): SslMethod {
  const text = typeof value === "string" ? value.trim().toLowerCase() : value;
  if (typeof text === "string" && (SSL_METHODS as readonly string[]).includes(text)) {
    return text as SslMethod;
  }
  throw new RangeError(
    `${where} must be one of ${SSL_METHODS.join(", ")}, got ${JSON.stringify(value) ?? value}`,
  );
}

/** Whether the method has a prediction head on the online branch (BYOL, SimSiam). */
export function usesPredictor(method: SslMethod): boolean {
  return method === "byol" || method === "simsiam";
}

/** Whether the method has a momentum (EMA) target network (BYOL). */
export function usesTarget(method: SslMethod): boolean {
  return method === "byol";
}

/** Whether the loss splits by anchor rows, a worker computing its rows' part (SimCLR). */
export function splitsByRows(method: SslMethod): boolean {
  return method === "simclr";
}
