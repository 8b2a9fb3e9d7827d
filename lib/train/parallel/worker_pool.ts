/**
 * The message plumbing of data-parallel SSL training: {@linkcode SslWorkerPool}
 * starts the module workers (`ssl_worker.ts`), owns the shared control words
 * they block on, posts them messages and gathers their replies phase by phase
 * (a reply that comes before anyone waits for it is kept in an inbox). A
 * worker that fails wakes the others and fails the pool for good.
 * `SslWorkers` (`ssl_workers.ts`) drives one pool; `protocol.ts` has the
 * messages.
 *
 * @example
 * ```ts
 * import { SslWorkerPool } from "./worker_pool.ts";
 * const pool = new SslWorkerPool(2);
 * try {
 *   // post every worker its `init` message (protocol.ts), then wait for them:
 *   // for (let w = 0; w < pool.size; w++) pool.post(w, init);
 *   // await pool.collect("ready", 0, pool.size);
 * } finally {
 *   pool.dispose(); // SslWorkerPool.running is back to 0
 * }
 * ```
 *
 * @module
 */
import {
  CTRL_ABORT,
  CTRL_RELEASE,
  CTRL_WORDS,
  type InitMessage,
  type StepMessage,
  type WorkerReply,
} from "./protocol.ts";

/** The worker reply of kind `T`. */
export type Reply<T extends WorkerReply["type"]> = Extract<WorkerReply, { type: T }>;

interface Waiter {
  type: WorkerReply["type"];
  seq: number;
  count: number;
  got: (WorkerReply | undefined)[];
  resolve: (replies: WorkerReply[]) => void;
  reject: (err: Error) => void;
}

/** Workers started by any `SslWorkerPool` and not yet terminated. */
let running = 0;

/**
 * W module workers running `ssl_worker.ts`, their control words, and the
 * collection of their replies. Errors read "SslWorkers: ..." (the pool is
 * part of `SslWorkers`).
 */
export class SslWorkerPool {
  /** The `CTRL_WORDS` shared control words (`CTRL_RELEASE`, `CTRL_ABORT`) the workers watch. */
  readonly ctrl: Int32Array;
  readonly #workers: Worker[] = [];
  #releases = 0;
  #waiter?: Waiter;
  #inbox: { from: number; reply: WorkerReply }[] = [];
  #failure?: Error;
  #disposed = false;

  /** Starts `count` workers; they wait for their `init` message. */
  constructor(count: number) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL("./ssl_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (e: MessageEvent) => this.#receive(w, e.data as WorkerReply);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(new Error(`SslWorkers: worker ${w} failed: ${e.message}`));
      };
      worker.onmessageerror = () => this.#fail(new Error(`SslWorkers: worker ${w}: bad message`));
      this.#workers.push(worker);
      running++;
    }
  }

  /** Workers started by any pool and not yet terminated (0 once all are disposed). */
  static get running(): number {
    return running;
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /** How many times {@linkcode SslWorkerPool.release} was called (the value of `ctrl[CTRL_RELEASE]`). */
  get releases(): number {
    return this.#releases;
  }

  /** Why the pool failed (a worker's error), or `undefined`. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Whether {@linkcode SslWorkerPool.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Sends `message` to worker `w`. */
  post(w: number, message: InitMessage | StepMessage): void {
    this.#workers[w].postMessage(message);
  }

  /** Lets the blocked workers go on to their next phase. */
  release(): void {
    this.#releases++;
    Atomics.store(this.ctrl, CTRL_RELEASE, this.#releases);
    Atomics.notify(this.ctrl, CTRL_RELEASE);
  }

  /** Counts `count` releases the workers made themselves (barriers in shared memory). */
  released(count: number): void {
    this.#releases += count;
  }

  /** A promise for `count` replies of `type` to step `seq`, one per worker 0..count-1. */
  collect(type: WorkerReply["type"], seq: number, count: number): Promise<WorkerReply[]> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#waiter = { type, seq, count, got: new Array(count).fill(undefined), resolve, reject };
      const early = this.#inbox;
      this.#inbox = [];
      for (const { from, reply } of early) this.#receive(from, reply);
    });
  }

  /** Stops the workers (blocked ones are woken first; a pending `collect` rejects). Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Wake any worker blocked in Atomics.wait first: terminating a blocked thread can hang.
    Atomics.store(this.ctrl, CTRL_ABORT, 1);
    Atomics.notify(this.ctrl, CTRL_RELEASE);
    for (const w of this.#workers) {
      w.terminate();
      running--;
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(new Error("SslWorkers: disposed while a step was running"));
  }

  #receive(from: number, reply: WorkerReply): void {
    if (reply.type === "error") {
      const when = reply.seq === 0 ? "while starting" : `in step ${reply.seq}`;
      this.#fail(new Error(`SslWorkers: worker ${from} failed ${when}: ${reply.message}`));
      return;
    }
    const waiter = this.#waiter;
    if (!waiter || waiter.type !== reply.type || waiter.seq !== reply.seq) {
      this.#inbox.push({ from, reply });
      return;
    }
    waiter.got[from] = reply;
    if (waiter.got.every((r) => r !== undefined)) {
      this.#waiter = undefined;
      waiter.resolve(waiter.got as WorkerReply[]);
    }
  }

  /** A worker failed: wake the others, reject the pending collect, refuse further ones. */
  #fail(err: Error): void {
    if (this.#failure || this.#disposed) return;
    this.#failure = err;
    Atomics.store(this.ctrl, CTRL_ABORT, 1);
    Atomics.notify(this.ctrl, CTRL_RELEASE);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(err);
  }
}
