/**
 * The real commands, spawned: `--help` answers with every flag (exit 0), and a mistake in the
 * flags is ONE line on stderr naming the flag, exit 2, no stack trace. None of these gets as
 * far as loading data or training.
 */
import { assert, assertEquals } from "../assert.ts";
import { EXPERIMENT_COMMAND } from "../../bin/experiment.ts";

const decoder = new TextDecoder();

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(script: string, ...args: string[]): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: new URL("../..", import.meta.url).pathname,
    env: { NO_COLOR: "1", SSL_SKIP_SETUP: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  // Deno's own notice when the parallel runs wait for each other's node_modules lock.
  const stderr = decoder.decode(out.stderr).replace(/^Blocking waiting for file lock.*\n?/gm, "");
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr };
}

/** Asserts a one-line usage error from `command` that names `flag`. */
function assertUsageError(r: Ran, command: string, ...parts: string[]): void {
  const where = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assertEquals(r.code, 2, where);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `one line on stderr: ${where}`);
  assert(lines[0].startsWith(`${command}: `), where);
  for (const p of parts) assert(lines[0].includes(p), `"${p}" in: ${lines[0]}`);
  assert(!/^\s+at /m.test(r.stderr + r.stdout), `no stack trace: ${where}`);
}

const COMMANDS = [
  { script: "bin/experiment.ts", name: "experiment", flags: ["--labels", "--head", "--backend"] },
  { script: "bin/ablation.ts", name: "ablation", flags: ["--part", "--seeds", "--backend"] },
  { script: "bin/notebooks.ts", name: "notebooks", flags: ["--quick", "--only", "--backend"] },
  { script: "bench/bench.ts", name: "bench", flags: ["--backends", "--workers", "--quick"] },
  { script: "bench/vs_torch.ts", name: "vs_torch", flags: ["--rounds", "--models", "--python"] },
  {
    script: "bench/conv_filter_grad.ts",
    name: "conv_filter_grad",
    flags: ["--reps", "--ssl-step", "--rounds"],
  },
  { script: "bin/setup.ts", name: "setup", flags: ["--for", "--dry-run"] },
  { script: "bin/export.ts", name: "export", flags: ["--from", "--out", "--dataset"] },
  { script: "bin/embed.ts", name: "embed", flags: ["--model", "--out", "--split", "--k"] },
  { script: "bin/serve.ts", name: "serve", flags: ["--model", "--reference", "--port"] },
  {
    script: "tools/collapse_demo.ts",
    name: "collapse_demo",
    flags: ["--method", "--epochs", "--seed"],
  },
  {
    script: "tools/methods_lr_sweep.ts",
    name: "methods_lr_sweep",
    flags: ["--dataset", "--methods", "--rates", "--out"],
  },
  {
    script: "tools/self_training_sweep.ts",
    name: "self_training_sweep",
    flags: ["--dataset", "--seeds", "--only", "--dev", "--out"],
  },
  {
    script: "tools/ssl_fine_tune_sweep.ts",
    name: "ssl_fine_tune_sweep",
    flags: ["--dataset", "--seeds", "--only", "--dev", "--students", "--out"],
  },
  {
    script: "bin/tune_supervised.ts",
    name: "tune_supervised",
    flags: ["--dataset", "--labels", "--seeds", "--only"],
  },
];

Deno.test("every command answers --help and -h with its flags, exit 0", async () => {
  const runs = await Promise.all(
    COMMANDS.flatMap((c) => [run(c.script, "--help"), run(c.script, "-h")]),
  );
  COMMANDS.forEach((c, i) => {
    for (const r of [runs[2 * i], runs[2 * i + 1]]) {
      assertEquals(r.code, 0, `${c.name} --help: ${r.stderr}`);
      assert(r.stdout.includes(`deno `), `${c.name}: a usage line`);
      for (const flag of [...c.flags, "--help"]) {
        assert(r.stdout.includes(flag), `${c.name} --help lists ${flag}:\n${r.stdout}`);
      }
      assertEquals(r.stderr.trim(), "", `${c.name} --help writes nothing to stderr`);
    }
  });
});

Deno.test("experiment --help lists every declared flag", async () => {
  const r = await run("bin/experiment.ts", "--help");
  for (const name of Object.keys(EXPERIMENT_COMMAND.flags)) {
    assert(r.stdout.includes(`--${name} `) || r.stdout.includes(`--${name}\n`), name);
  }
});

Deno.test("every command refuses an unknown flag in one line, exit 2", async () => {
  const runs = await Promise.all(COMMANDS.map((c) => run(c.script, "--frobnicate")));
  COMMANDS.forEach((c, i) =>
    assertUsageError(runs[i], c.name, "unknown flag --frobnicate", "run with --help")
  );
});

Deno.test("experiment: bad values are one-line usage errors naming the flag", async () => {
  const [labels, temperature, head, missing, backend, seeds, noLabels, noEpochs, fewLabels] =
    await Promise.all([
      run("bin/experiment.ts", "--labels", "-3"),
      run("bin/experiment.ts", "--temperature", "-1"),
      run("bin/experiment.ts", "--head", "mlp:0"),
      run("bin/experiment.ts", "--epochs"),
      run("bin/experiment.ts", "--backend", "gpu"),
      run("bin/experiment.ts", "--seeds", "0,x"),
      run("bin/experiment.ts", "--labels", "0"),
      run("bin/experiment.ts", "--epochs", "0"),
      run("bin/experiment.ts", "--labels", "5", "--quick"),
    ]);
  assertUsageError(labels, "experiment", "--labels", '"-3"', "integer >= 1");
  // No labels, or "SSL" arms without pre-training: refused before any training.
  assertUsageError(noLabels, "experiment", "--labels", '"0"', "integer >= 1");
  assertUsageError(noEpochs, "experiment", "--epochs", '"0"', "integer >= 1");
  // Fewer labels than classes: refused once the data says how many classes there are.
  assertUsageError(fewLabels, "experiment", "--labels 5", "10 classes", "--labels 10 or more");
  assertUsageError(temperature, "experiment", "--temperature", '"-1"', "positive number");
  assertUsageError(head, "experiment", "--head", "mlp:0", "positive integer");
  assertUsageError(missing, "experiment", "--epochs needs a value");
  assertUsageError(backend, "experiment", "--backend", "wasm, cpu", '"gpu"');
  assertUsageError(seeds, "experiment", "--seeds", '"0,x"');
});

Deno.test("ablation, notebooks, bench: bad values are one-line usage errors", async () => {
  const [epochs, timeout, workers, backends, stray] = await Promise.all([
    run("bin/ablation.ts", "--epochs", "0"),
    run("bin/notebooks.ts", "--timeout", "-5"),
    run("bench/bench.ts", "--workers", "0"),
    run("bench/bench.ts", "--backends", "wasm,tpu"),
    run("bin/notebooks.ts", "01"),
  ]);
  assertUsageError(epochs, "ablation", "--epochs", ">= 1");
  assertUsageError(timeout, "notebooks", "--timeout", '"-5"');
  assertUsageError(workers, "bench", "--workers", ">= 1");
  assertUsageError(backends, "bench", "--backends", '"wasm,tpu"');
  assertUsageError(stray, "notebooks", 'unexpected argument "01"');
});

Deno.test("export, embed, serve: missing or bad values, a folder that is not a model: one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
    const [noFrom, notModel, noModel, split, bad, experiment, serve] = await Promise.all([
      run("bin/export.ts", "--out", `${dir}/x`),
      run("bin/export.ts", "--from", dir, "--out", dir),
      run("bin/embed.ts", "--out", `${dir}/e`),
      run("bin/embed.ts", "--model", dir, "--out", `${dir}/e`, "--split", "val"),
      run("bin/embed.ts", "--model", `${dir}/none`, "--out", `${dir}/e`),
      run("bin/experiment.ts", "--save-model", dir),
      run("bin/serve.ts", "--model", dir, "--port", "-1"),
    ]);
    assertUsageError(noFrom, "export", "--from DIR is required");
    assertUsageError(notModel, "export", `--out ${dir}`, "not a model of this library");
    assertUsageError(noModel, "embed", "--model DIR is required");
    assertUsageError(split, "embed", "--split", '"val"');
    assertUsageError(bad, "embed", `no checkpoint in ${dir}/none`);
    assertUsageError(experiment, "experiment", "--save-model", "not a model of this library");
    assertUsageError(serve, "serve", "--port", '"-1"');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
