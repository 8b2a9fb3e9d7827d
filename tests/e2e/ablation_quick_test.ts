/**
 * `deno task ablation --quick`, spawned as a user runs it: every head x feature x seed, the
 * temperatures and the label budgets are written, and a rerun with the same cache folder
 * resumes without training (about half a minute).
 *
 * @module
 */
import { FEATURES, HEAD_KINDS, PARTS } from "../../lib/study/recipe.ts";
import type { AblationResults, RunSummary } from "../../lib/study/report.ts";
import { assert, assertEquals } from "../assert.ts";
import { LABEL_CURVE_ARMS } from "../../lib/study/label_curve.ts";

Deno.test({
  name: "deno task ablation --quick writes every head x feature x seed, temperature and budget",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/ablation.json`;
    const ablation = async (...args: string[]) => {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["task", "ablation", "--quick", "--cache-dir", `${dir}/cache`, ...args],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assertEquals(code, 0, text);
      return text;
    };
    try {
      const text = await ablation("--out", out);
      const r = JSON.parse(await Deno.readTextFile(out)) as AblationResults;
      assertEquals(r.kind, "ablation");
      assertEquals(r.quick, true);
      assertEquals(r.parts, [...PARTS]);
      const n = r.seeds.length;
      assert(n >= 1);
      const fraction = (v: number, what: string) =>
        assert(typeof v === "number" && v >= 0 && v <= 1, `${what}: ${v}`);
      const checkRun = (s: RunSummary, what: string) => {
        for (const f of FEATURES) {
          for (const m of ["linear_probe", "knn"] as const) {
            for (const split of ["test", "dev"] as const) {
              const v = s[f][m][split];
              assertEquals(v.length, n, `${what} ${f} ${m} ${split}`);
              v.forEach((x) => fraction(x, `${what} ${f} ${m} ${split}`));
            }
          }
        }
        assertEquals(s.pretrain_loss.length, n);
        assertEquals(s.zero_h_fraction.length, n);
        s.zero_h_fraction.forEach((x) => fraction(x, `${what} all-zero h`));
      };
      assertEquals(Object.keys(r.heads!.results), [...HEAD_KINDS]);
      for (const h of HEAD_KINDS) checkRun(r.heads!.results[h], h);
      assert(HEAD_KINDS.includes(r.heads!.best));
      checkRun(
        { ...r.heads!.no_pretraining!, pretrain_loss: r.seeds.map(() => []) },
        "no pre-training",
      );
      assertEquals(r.temperature!.results.map((t) => t.temperature), [0.1, 0.2, 0.5, 1.0]);
      for (const t of r.temperature!.results) checkRun(t, `τ ${t.temperature}`);
      assertEquals(r.temperature!.head, r.heads!.best);
      assert(r.temperature!.results.some((t) => t.reused), "the head study's τ is reused");
      assert([0.1, 0.2, 0.5, 1.0].includes(r.temperature!.best));
      assertEquals(r.labels!.budgets.map((b) => b.labels), [10, 50]);
      for (const b of r.labels!.budgets) {
        for (const arm of LABEL_CURVE_ARMS) {
          assertEquals(b.arms[arm].test_accuracy.length, n, `${b.labels} ${arm}`);
          b.arms[arm].test_accuracy.forEach((x) => fraction(x, `${b.labels} ${arm}`));
        }
      }
      assert(r.timing_s.total > 0 && r.timing_s.pretrain > 0);
      assert(text.includes("| projection head | features |"), "the head table is printed");
      assert(text.includes("| labels | pixels, linear |"), "the label table is printed");
      assert(/wall time \d+\.\d min/.test(text), "the wall time is printed");

      // A rerun with the same cache folder resumes: nothing is trained again, same figures.
      const again = await ablation("--out", `${dir}/again.json`);
      assert(!again.includes("epoch 1/"), "no pre-training on a resumed run");
      assert(again.includes("read from"), again);
      const r2 = JSON.parse(await Deno.readTextFile(`${dir}/again.json`)) as AblationResults;
      assertEquals(r2.heads!.results, r.heads!.results);
      assertEquals(r2.heads!.best, r.heads!.best);
      assertEquals(r2.temperature!.results.map((t) => t.h), r.temperature!.results.map((t) => t.h));
      assertEquals(r2.labels, r.labels);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
