/**
 * Fine-tuned arms on an {@linkcode ArmPool}: at most one arm per worker at a time, the arms
 * that teach first, and a student as soon as its teachers are done (before any other waiting
 * arm). `runSeed` uses it for `deno task experiment`; the notebooks' steps use it to train the
 * arms of a notebook side by side before reading them from their checkpoints. A student gets
 * exactly the teachers it would get on the main thread: those trained here, plus those given in
 * `known` (already trained, e.g. read from a checkpoint).
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { loadMnist } from "../data/mnist.ts";
 * import { ArmPool } from "./arm_pool.ts";
 * import { trainArmsOnPool } from "./pooled_arms.ts";
 * import { quickRecipe } from "./recipe.ts";
 * await initBackend();
 * const config = quickRecipe();
 * config.finetune = { ...config.finetune, steps: 5 };
 * config.baselines = undefined;
 * const data = await loadMnist();
 * using pool = await ArmPool.create({ backend: "wasm", config, data, workers: 1 });
 * await trainArmsOnPool(pool, {
 *   config,
 *   seed: 0,
 *   arms: ["supervised"],
 *   onDone: (arm, done) => console.log(arm, done.accuracy),
 * });
 * ```
 *
 * @module
 */
import type { Pretrained } from "../pipeline/pretrain.ts";
import type { ArmDone, ArmPool } from "./arm_pool.ts";
import type { FineTunedTransfer } from "./arm_worker.ts";
import { type Arm, PRETRAINED_ARMS, TEACHING_ARMS } from "./arms.ts";
import { teacherArmsOf } from "./arm_table.ts";
import type { ExperimentConfig } from "./recipe.ts";

/** What {@linkcode trainArmsOnPool} trains. */
export interface PooledArms {
  config: ExperimentConfig;
  seed: number;
  /** The fine-tuned arms to train (their order does not matter). */
  arms: readonly Arm[];
  /** The pre-training, for the arms that start from it. */
  pre?: Pretrained;
  /** Teachers trained before (not in `arms`) that students here learn from. */
  known?: ReadonlyMap<Arm, FineTunedTransfer>;
  /** Bring every trained model back (default: only the teachers'). */
  returnModels?: boolean;
  /** Called after every epoch of each arm (`epoch` counts from 0). */
  onEpoch?: (arm: Arm, epoch: number) => void;
  /** Called as each arm finishes (awaited before the next arm is started on that worker). */
  onDone: (arm: Arm, done: ArmDone) => void | Promise<void>;
}

/** Trains `arms` on the pool; see the module doc. Rejects with the first arm's failure. */
export async function trainArmsOnPool(pool: ArmPool, job: PooledArms): Promise<void> {
  const { config, seed, arms, pre } = job;
  const models = new Map<Arm, FineTunedTransfer>(job.known ?? []);
  const finished = new Set<Arm>();
  const waiting = [...arms].sort((a, b) =>
    Number(TEACHING_ARMS.includes(b)) - Number(TEACHING_ARMS.includes(a))
  );
  const validation = config.validation > 0;
  const teachersOf = (arm: Arm) => teacherArmsOf(arm, validation);
  const ready = (arm: Arm) => teachersOf(arm).every((t) => finished.has(t) || !arms.includes(t));
  await new Promise<void>((resolve, reject) => {
    let running = 0;
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (waiting.length === 0 && running === 0) return resolve();
      while (running < pool.size) {
        const students = waiting.filter((a) => teachersOf(a).length > 0 && ready(a));
        const next = students[0] ?? waiting.find((a) => teachersOf(a).length === 0);
        if (next === undefined) return;
        waiting.splice(waiting.indexOf(next), 1);
        running++;
        const teachers = teachersOf(next).map((t) => models.get(t)).filter((m) => m !== undefined);
        pool.run({
          config,
          seed,
          arm: next,
          pretrained: PRETRAINED_ARMS.includes(next) ? pre : undefined,
          teachers,
          returnModel: job.returnModels || TEACHING_ARMS.includes(next),
          onEpoch: job.onEpoch && ((epoch) => job.onEpoch!(next, epoch)),
        }).then(async (done) => {
          if (done.model && TEACHING_ARMS.includes(next)) models.set(next, done.model);
          finished.add(next);
          await job.onDone(next, done);
          running--;
          pump();
        }).catch((e) => {
          failed = true;
          reject(e);
        });
      }
    };
    pump();
  });
}
