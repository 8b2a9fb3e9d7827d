/**
 * Where a data-parallel SSL step's time goes, phase by phase, on the main thread and in each
 * worker (`SslWorkers.lastStep`): the step of `bench/ssl_step_parallel.ts` (the ResNet by
 * default, 128 pairs on 2 workers, NT-Xent, Adam), its medians over the timed steps. A worker's
 * "zWait" and "lossWait" are its waits for the other workers at the two barriers; "to worker" is
 * from the main thread's post to the worker's start, "to main" from the worker's last mark to
 * the main thread having every worker's gradients; "between steps" is the caller's time from the
 * end of one step to the start of the next.
 *
 * ```sh
 * deno run -A bench/ssl_parallel_trace.ts [--model resnet] [--steps 20] [--workers 2]
 * ```
 *
 * @example
 * ```ts
 * import { initBackend } from "../lib/backend.ts";
 * import { traceParallelSteps } from "./ssl_parallel_trace.ts";
 * await initBackend();
 * const r = await traceParallelSteps("article", 8, 1, 2, 2);
 * console.log(r.msPerStep, r.main.forward, r.workers[0].backward);
 * ```
 *
 * @module
 */
import { initBackend } from "../lib/backend.ts";
import { type CommandSpec, integerFlag, listOf, parseFlags } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import {
  MAIN_PHASES,
  PARALLEL_STEP,
  type SslStepTrace,
  SslWorkers,
} from "../lib/train/parallel/ssl_workers.ts";
import { type ParallelStepSwitches, WORKER_PHASES } from "../lib/train/parallel/protocol.ts";
import { SSL_STEP_PAIRS, type SslStepModel } from "./ssl_step.ts";
import { parallelStepBench } from "./ssl_step_parallel.ts";

/** Medians (ms) of each phase over the traced steps. */
export interface ParallelTrace {
  /** Mean wall time of a step, caller included. */
  msPerStep: number;
  /** Each timed step's wall time, from the start of one to the start of the next. */
  steps: number[];
  /** The main thread's phases (`MAIN_PHASES` but "start"), and "between steps". */
  main: Record<string, number>;
  /** Each worker's phases (`WORKER_PHASES` but "received"), "to worker", "to main", "busy". */
  workers: Record<string, number>[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians of the phases of `traces` (consecutive steps). */
export function phaseMedians(
  traces: SslStepTrace[],
): Omit<ParallelTrace, "msPerStep" | "steps"> {
  const main: Record<string, number[]> = {};
  const add = (to: Record<string, number[]>, k: string, v: number) => (to[k] ??= []).push(v);
  const workers: Record<string, number[]>[] = traces[0].workers.map(() => ({}));
  traces.forEach((tr, s) => {
    for (let i = 1; i < MAIN_PHASES.length; i++) {
      add(main, MAIN_PHASES[i], tr.main[i] - tr.main[i - 1]);
    }
    if (s > 0) add(main, "between steps", tr.main[0] - traces[s - 1].main.at(-1)!);
    tr.workers.forEach((m, w) => {
      const to = workers[w];
      add(to, "to worker", m[0] - tr.main[MAIN_PHASES.indexOf("views")]);
      for (let i = 1; i < WORKER_PHASES.length; i++) {
        add(to, WORKER_PHASES[i], m[i] - m[i - 1]);
      }
      add(to, "to main", tr.main[MAIN_PHASES.indexOf("backward")] - m.at(-1)!);
      const waits = (m[4] - m[3]) + (m[6] - m[5]);
      add(to, "busy", m.at(-1)! - m[0] - waits);
    });
  });
  const med = (r: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
  return { main: med(main), workers: workers.map(med) };
}

/** Runs `warmup` then `steps` traced data-parallel steps of `model` and returns their medians. */
export async function traceParallelSteps(
  model: SslStepModel,
  pairs: number,
  warmup: number,
  steps: number,
  workers: number,
): Promise<ParallelTrace> {
  const bench = parallelStepBench(model, pairs);
  const views = bench.views;
  const par = await SslWorkers.create(bench.poolOptions(workers));
  try {
    for (let i = 0; i < warmup; i++) await par.step(views, pairs);
    const traces: SslStepTrace[] = [];
    const starts = [performance.now()];
    for (let i = 0; i < steps; i++) {
      await par.step(views, pairs);
      traces.push(par.lastStep!);
      starts.push(performance.now());
    }
    const msPerStep = (starts[steps] - starts[0]) / steps;
    const each = starts.slice(1).map((t, i) => t - starts[i]);
    return { msPerStep, steps: each, ...phaseMedians(traces) };
  } finally {
    par.dispose();
    bench.dispose();
  }
}

/**
 * Steady-state comparison: two pools side by side, one made with `switches` off and one with them
 * on (both warmed up by `warmup` steps), stepped alternately `pairs` times (which one goes first
 * alternating); returns the median step of each and the median of the pairs' ratios.
 */
export async function pairedParallelSteps(
  model: SslStepModel,
  pairs: number,
  warmup: number,
  count: number,
  workers: number,
  switches: (keyof ParallelStepSwitches)[],
): Promise<{ before: number; now: number; ratio: number }> {
  const bench = parallelStepBench(model, pairs);
  const views = bench.views;
  const pools: SslWorkers[] = [];
  try {
    for (const on of [false, true]) {
      switches.forEach((k) => (PARALLEL_STEP[k] = on));
      pools.push(await SslWorkers.create(bench.poolOptions(workers)));
    }
    switches.forEach((k) => (PARALLEL_STEP[k] = true));
    for (let i = 0; i < warmup; i++) for (const p of pools) await p.step(views, pairs);
    const ms: number[][] = [[], []];
    for (let i = 0; i < count; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now();
        await pools[k].step(views, pairs);
        ms[k].push(performance.now() - t0);
      }
    }
    return {
      before: median(ms[0]),
      now: median(ms[1]),
      ratio: median(ms[0].map((b, i) => b / ms[1][i])),
    };
  } finally {
    pools.forEach((p) => p.dispose());
    bench.dispose();
  }
}

/** The command's flags (`--help`). */
export const TRACE_COMMAND = {
  name: "ssl_parallel_trace",
  usage: "deno run -A bench/ssl_parallel_trace.ts [flags]",
  summary: "Per-phase medians of data-parallel SSL steps, main thread and workers.",
  flags: {
    model: { type: "string", value: "NAME", default: "resnet", description: "article, resnet" },
    steps: { type: "string", value: "N", default: "20", description: "traced steps" },
    workers: { type: "string", value: "N", default: "2", description: "workers" },
    warmup: { type: "string", value: "N", default: "2", description: "untimed steps first" },
    compare: {
      type: "string",
      value: "LIST",
      default: "",
      description: "PARALLEL_STEP switches: alternate rounds with them off and on",
    },
    rounds: { type: "string", value: "N", default: "5", description: "rounds of --compare" },
    paired: {
      type: "string",
      value: "N",
      default: "0",
      description: "with --compare: N pairs of steps of two live pools instead of rounds",
    },
  },
} as const satisfies CommandSpec;

const fmt = (r: Record<string, number>) =>
  Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");

if (import.meta.main) {
  const opts = exitOnUsage("ssl_parallel_trace", () => {
    const v = parseFlags(TRACE_COMMAND, Deno.args);
    return {
      model: listOf("model", v.model, ["article", "article-bn", "resnet"] as const)[0],
      steps: integerFlag("steps", v.steps, 2),
      workers: integerFlag("workers", v.workers, 1),
      warmup: integerFlag("warmup", v.warmup, 0),
      compare: v.compare === "" ? [] : listOf(
        "compare",
        v.compare,
        Object.keys(PARALLEL_STEP) as (keyof ParallelStepSwitches)[],
      ),
      rounds: integerFlag("rounds", v.rounds, 1),
      paired: integerFlag("paired", v.paired, 0),
    };
  });
  await initBackend();
  const run = () =>
    traceParallelSteps(
      opts.model,
      SSL_STEP_PAIRS[opts.model],
      opts.warmup,
      opts.steps,
      opts.workers,
    );
  const show = (label: string, r: ParallelTrace) => {
    console.log(`${label}: step ${r.msPerStep.toFixed(1)} ms (mean), medians in ms:`);
    console.log(`  steps: ${r.steps.map((t) => t.toFixed(0)).join(" ")}`);
    console.log(`  main: ${fmt(r.main)}`);
    r.workers.forEach((w, i) => console.log(`  worker ${i}: ${fmt(w)}`));
  };
  console.log(
    `${new Date().toISOString()} ${opts.model}, ${opts.workers} workers, ${opts.warmup} + ` +
      `${opts.steps} steps`,
  );
  if (opts.compare.length > 0 && opts.paired > 0) {
    const r = await pairedParallelSteps(
      opts.model,
      SSL_STEP_PAIRS[opts.model],
      opts.warmup,
      opts.paired,
      opts.workers,
      opts.compare,
    );
    console.log(
      `${opts.compare.join(",")} off / on, ${opts.paired} pairs: ${r.before.toFixed(1)} → ` +
        `${r.now.toFixed(1)} ms (medians), pairs' ratio x${r.ratio.toFixed(3)} (median)`,
    );
  } else if (opts.compare.length === 0) {
    show("now", await run());
  } else {
    const set = (on: boolean) => opts.compare.forEach((k) => (PARALLEL_STEP[k] = on));
    const ms: Record<string, number[]> = { before: [], now: [] };
    for (let round = 0; round < opts.rounds; round++) {
      for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
        set(on);
        const label = on ? "now" : "before";
        const r = await run();
        ms[label].push(r.msPerStep);
        show(`round ${round + 1} ${label} (${opts.compare.join(",")} ${on ? "on" : "off"})`, r);
      }
    }
    set(true);
    const before = median(ms.before);
    const now = median(ms.now);
    console.log(
      `medians of ${opts.rounds}: before ${before.toFixed(1)} ms, now ${now.toFixed(1)} ms, ` +
        `x${(before / now).toFixed(3)} (${
          (2 * SSL_STEP_PAIRS[opts.model] / now * 1000).toFixed(0)
        } views/s now)`,
    );
  }
}
