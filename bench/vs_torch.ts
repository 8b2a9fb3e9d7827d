/**
 * Our SSL step and PyTorch's, side by side in one run: for each model, each round runs our
 * step on one thread, PyTorch's on one thread, ours on N workers and PyTorch's on N threads
 * (N: every core), alternating, so that drift on a shared machine hits both; it prints the
 * median of the rounds and the ratios ours / PyTorch. PyTorch's article step is the shared
 * reference script; its ResNet step is the twin in `bench/README.md`.
 *
 * ```sh
 * deno run -A bench/vs_torch.ts [--rounds 3] [--models article,resnet] [--workers N]
 * ```
 *
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { autoWorkers, initBackend } from "../lib/backend.ts";
import { type CommandSpec, integerFlag, listOf, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { exitOnUsage } from "../lib/cli/main.ts";
import { benchSslStep, SSL_STEP_PAIRS, type SslStepModel } from "./ssl_step.ts";
import { benchSslStepParallel } from "./ssl_step_parallel.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The command's flags (`--help`). */
export const VS_TORCH_COMMAND = {
  name: "vs_torch",
  usage: "deno run -A bench/vs_torch.ts [flags]",
  summary: "Our SSL step and PyTorch's, alternating in one run, on 1 core and on every core; " +
    "medians and ratios.",
  flags: {
    rounds: { type: "string", value: "N", default: "3", description: "alternations" },
    models: {
      type: "string",
      value: "LIST",
      default: "article,resnet",
      description: "article (CNN, 28x28x1, 512 pairs), resnet (32x32x3, 128 pairs)",
    },
    workers: {
      type: "string",
      value: "N",
      default: String(autoWorkers()),
      description: "our workers and PyTorch's threads in the many-core case (1 skips it)",
    },
    python: {
      type: "string",
      value: "PATH",
      default: existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3",
      description: "a Python with torch (Debian's python3-torch)",
    },
    "torch-article": {
      type: "string",
      value: "PATH",
      default: `${ROOT}../shared/bench/torch_ssl_step.py`,
      description: "PyTorch's article step (the reference script)",
    },
  },
} as const satisfies CommandSpec;

const MODELS: readonly SslStepModel[] = ["article", "resnet"];

/** The ```python block of bench/README.md that starts with `# torch_resnet_ssl_step.py`. */
export function resnetTwinSource(readme: string): string {
  const m = readme.match(/```python\n(# torch_resnet_ssl_step\.py\n[\s\S]*?)```/);
  if (!m) throw new Error("bench/README.md has no ```python block for torch_resnet_ssl_step.py");
  return m[1];
}

/** Runs a PyTorch step script with `threads` threads and returns its views/s. */
async function torchViewsPerSecond(python: string, script: string, threads: number) {
  const out = await new Deno.Command(python, {
    args: [script, "10"],
    env: { TORCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = text.match(/views\/s (\d+)/);
  if (!out.success || !m) {
    throw new Error(
      `${script} failed (${python}): ${new TextDecoder().decode(out.stderr).trim().slice(-400)}`,
    );
  }
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (import.meta.main) {
  const opts = exitOnUsage("vs_torch", () => {
    const v = parseFlags(VS_TORCH_COMMAND, Deno.args);
    const article = v["torch-article"];
    const models = listOf("models", v.models, MODELS);
    if (models.includes("article") && !existsSync(article)) {
      throw new UsageError(`--torch-article: no such file ${article}`);
    }
    return {
      rounds: integerFlag("rounds", v.rounds, 1),
      models,
      workers: integerFlag("workers", v.workers, 1),
      python: v.python,
      article,
    };
  });
  const check = await new Deno.Command(opts.python, { args: ["-c", "import torch"] }).output()
    .catch(() => undefined);
  if (!check?.success) {
    console.error(`vs_torch: ${opts.python} cannot import torch; apt-get install -y python3-torch`);
    Deno.exit(2);
  }
  const twin = await Deno.makeTempFile({ suffix: "_torch_resnet_ssl_step.py" });
  await Deno.writeTextFile(
    twin,
    resnetTwinSource(await Deno.readTextFile(`${ROOT}bench/README.md`)),
  );
  await initBackend();
  const n = opts.workers;
  console.log(
    `${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores, ${opts.rounds} rounds`,
  );
  for (const model of opts.models) {
    const pairs = SSL_STEP_PAIRS[model];
    const script = model === "article" ? opts.article : twin;
    const runs: Record<string, number[]> = {};
    const add = (k: string, v: number) => (runs[k] ??= []).push(v);
    for (let r = 0; r < opts.rounds; r++) {
      add("ours 1", (await benchSslStep(pairs, 2, 8, model)).viewsPerSecond);
      add("torch 1", await torchViewsPerSecond(opts.python, script, 1));
      if (n > 1) {
        add(`ours ${n}`, (await benchSslStepParallel(pairs, 2, 8, n, model)).viewsPerSecond);
        add(`torch ${n}`, await torchViewsPerSecond(opts.python, script, n));
      }
      const last = Object.entries(runs).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(0)}`);
      console.log(`  ${model} round ${r + 1}: ${last.join(", ")} views/s`);
    }
    for (const cores of n > 1 ? [1, n] : [1]) {
      const ours = median(runs[`ours ${cores}`]);
      const torch = median(runs[`torch ${cores}`]);
      console.log(
        `${model}, ${cores} core${cores > 1 ? "s" : ""}: ours ${ours.toFixed(0)} views/s, ` +
          `PyTorch ${torch.toFixed(0)} views/s, ratio ${(ours / torch).toFixed(2)} ` +
          `(medians of ${opts.rounds})`,
      );
    }
  }
  await Deno.remove(twin);
}
