/**
 * `deno task ablation --part methods --quick`, spawned as a user (and CI) runs it: every
 * method x head x predictor is pre-trained, scored (probes on h and z, RankMe, the per-layer
 * table, the rotation and mirror probes) and fine-tuned three ways or skipped with a reason;
 * the strong baseline, the label-free choice and the provenance are written; a rerun with the
 * same cache folder resumes without training. Then the one-line errors of the part's flags.
 *
 * @module
 */
import {
  FINE_TUNE_MODES,
  methodRuns,
  quickMethodsPart,
  runKey,
} from "../../lib/study/methods_recipe.ts";
import type { AblationResults } from "../../lib/study/report.ts";
import { assert, assertEquals } from "../assert.ts";

const run = async (...args: string[]) => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "ablation", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    text: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr),
    stderr: new TextDecoder().decode(stderr),
  };
};

Deno.test({
  name: "deno task ablation --part methods --quick writes every method x head x fine-tune",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const cache = ["--part", "methods", "--quick", "--cache-dir", `${dir}/cache`];
    try {
      const first = await run(...cache, "--out", `${dir}/methods.json`);
      assertEquals(first.code, 0, first.text);
      const r = JSON.parse(await Deno.readTextFile(`${dir}/methods.json`)) as AblationResults;
      assertEquals([r.kind, r.quick, r.parts, r.seeds], ["ablation", true, ["methods"], [0]]);
      assert(r.made_by?.command.includes("--part methods"), "the command is recorded");
      const m = r.methods!;
      const grid = methodRuns(quickMethodsPart());
      assertEquals(m.runs.map((x) => x.key), grid.map(runKey));
      const fraction = (v: unknown, what: string) =>
        assert(typeof v === "number" && v >= 0 && v <= 1, `${what}: ${v}`);
      for (const x of m.runs) {
        for (const f of ["h", "z"] as const) {
          fraction(x.probe[f].test, `${x.name} probe ${f}`);
          fraction(x.probe[f].validation, `${x.name} probe ${f} validation`);
          assert(x.rank_me[f] >= 0 && x.rank_me[f] <= 256, `${x.name} RankMe ${f}`);
        }
        assertEquals(typeof x.collapsed, "boolean");
        assertEquals(x.layers[0].layer, "h");
        assertEquals(x.layers.length >= 1, true);
        for (const l of x.layers) assert(l.spectrum.length > 0 && l.spectrum[0] <= 1 + 1e-6);
        assertEquals(x.transforms.rotation.chance, 0.25);
        assertEquals(x.fine_tune.map((f) => f.mode), [...FINE_TUNE_MODES]);
        for (const f of x.fine_tune) {
          if (f.skipped !== undefined) assert(f.skipped.length > 0);
          else fraction(f.test, `${x.name} ${f.mode}`);
        }
        if (x.head === "none") assert(x.fine_tune[1].skipped === "no head to keep", x.name);
      }
      assertEquals(m.strong.length, 1);
      fraction(m.strong[0].test[0], "strong supervised");
      assertEquals(m.label_free.probe.runs, grid.length);
      assert(r.timing_s.methods! > 0);
      assert(first.text.includes("| method | head | predictor | RankMe h |"), "the runs table");
      assert(first.text.includes("Keep or discard the head"), "the keep-or-discard table");
      assert(first.text.includes("Collapse demos"), "the collapse table");
      assert(first.text.includes("| RankMe (no labels) |"), "the label-free choice");

      // A rerun with the same cache folder resumes: nothing is trained again, same figures.
      const again = await run(...cache, "--out", `${dir}/again.json`);
      assertEquals(again.code, 0, again.text);
      assert(!again.text.includes("epoch 1/"), "no pre-training on a resumed run");
      const r2 = JSON.parse(await Deno.readTextFile(`${dir}/again.json`)) as AblationResults;
      assertEquals(r2.methods!.runs, m.runs);
      assertEquals(r2.methods!.label_free, m.label_free);

      // --method narrows the grid; a wrong one is one line and exit code 2.
      const one = await run(...cache, "--method", "simsiam", "--out", `${dir}/simsiam.json`);
      assertEquals(one.code, 0, one.text);
      const r3 = JSON.parse(await Deno.readTextFile(`${dir}/simsiam.json`)) as AblationResults;
      assertEquals(new Set(r3.methods!.runs.map((x) => x.method)), new Set(["simsiam"]));
      const bad = await run("--part", "methods,nope", "--quick");
      assertEquals(bad.code, 2);
      assertEquals(bad.stderr.trim().split("\n").length <= 2, true, bad.stderr);
      assert(bad.stderr.includes('unknown part "nope"'), bad.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "runMethodsPart leaks no tensors (SimSiam, linear head, predictor on and off)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tf = await import("@tensorflow/tfjs");
    const { initBackend } = await import("../../lib/backend.ts");
    const { loadMnist } = await import("../../lib/data/mnist.ts");
    const { runMethodsPart } = await import("../../lib/study/methods.ts");
    const { quickAblation } = await import("../../lib/study/recipe.ts");
    await initBackend();
    const data = await loadMnist();
    const config = { ...quickAblation("mnist"), parts: ["methods" as const] };
    config.methods = { ...config.methods, methods: ["simsiam"], heads: ["linear"] };
    const before = tf.memory().numTensors;
    const { results } = await runMethodsPart(config, data);
    assertEquals(tf.memory().numTensors, before, "tensors left behind");
    assertEquals(results.runs.map((r) => r.key), ["simsiam-linear-pred", "simsiam-linear-nopred"]);
    assertEquals(results.runs[0].fine_tune[1].skipped, "z has 64 outputs, not one per class (10)");
  },
});
