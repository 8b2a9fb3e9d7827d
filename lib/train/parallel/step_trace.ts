/**
 * Where the time of a data-parallel step goes (`SslWorkers`, `ssl_workers.ts`): the main
 * thread's time per phase summed over the steps ({@linkcode SslStepTimings},
 * `SslWorkers.timings`), and when each phase of the last step ended on the main thread and in
 * each worker, on one clock ({@linkcode SslStepTrace}, `SslWorkers.lastStep`; the main thread's
 * phases are {@linkcode MAIN_PHASES}, the workers' `WORKER_PHASES` of `protocol.ts`).
 *
 * @example
 * ```ts
 * import { clock, MAIN_PHASES, type SslStepTrace } from "./step_trace.ts";
 * const t0 = clock(); // ms since the epoch, the same clock on every thread
 * const trace: SslStepTrace = { main: MAIN_PHASES.map((_, i) => t0 + 10 * i), workers: [] };
 * // How long each phase after "start" took, in ms: { weights: 10, views: 10, ... }
 * const took = Object.fromEntries(
 *   MAIN_PHASES.slice(1).map((phase, i) => [phase, trace.main[i + 1] - trace.main[i]]),
 * );
 * ```
 *
 * @module
 */

/** Milliseconds the main thread spent in each phase of the steps so far (`SslWorkers.timings`). */
export interface SslStepTimings {
  /** Steps timed. */
  steps: number;
  /** Publishing the weights and copying the views into shared memory. */
  publish: number;
  /** Until every worker's z was in (their forward passes). */
  forward: number;
  /** Until every worker's loss gradient was in. */
  loss: number;
  /** Until every worker's parameter gradients were in (their backward passes). */
  backward: number;
  /** Adding the gradients and applying the optimizer on the main thread. */
  optimizer: number;
}

/**
 * The main thread's phases of a step, in order (`SslStepTrace.main` holds the time each one
 * ended): publishing the weights, copying the views and posting the step, waiting for the
 * workers' z, loss gradients and parameter gradients, the optimizer, averaging the state.
 */
export const MAIN_PHASES = [
  "start",
  "weights",
  "views",
  "forward",
  "loss",
  "backward",
  "optimizer",
  "state",
] as const;

/**
 * When each phase of the last step ended, on one clock (ms since the epoch,
 * `performance.timeOrigin + performance.now()` on each thread): the main thread's
 * (`MAIN_PHASES`) and each worker's (`WORKER_PHASES` of `protocol.ts`).
 */
export interface SslStepTrace {
  /** The main thread's marks. */
  main: number[];
  /** Each worker's marks. */
  workers: number[][];
}

/** Now, in ms since the epoch: one clock for the main thread and the workers. */
export const clock = () => performance.timeOrigin + performance.now();
