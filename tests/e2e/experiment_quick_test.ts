/**
 * `deno task experiment --quick`, spawned as a user runs it: every arm trains and the results
 * JSON and table are sane (about half a minute).
 *
 * @module
 */
import { ARMS } from "../../lib/experiment/run_seed.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test({
  name: "deno task experiment --quick runs every arm and writes sane results",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/results.json`;
    try {
      const cmd = new Deno.Command(Deno.execPath(), {
        args: ["task", "experiment", "--quick", "--out", out],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      });
      const { code, stdout, stderr } = await cmd.output();
      const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assertEquals(code, 0, text);
      const r = JSON.parse(await Deno.readTextFile(out));
      assertEquals(r.quick, true);
      assertEquals(r.dataset, "mnist");
      for (const arm of ARMS) {
        const accs: number[] = r.arms[arm]!.test_accuracy;
        assertEquals(accs.length, r.seeds.length, arm);
        // Sane, not a target: a probability, and better than guessing one of 10 classes.
        for (const a of accs) assert(a > 0.15 && a <= 1, `${arm}: test accuracy ${a}`);
      }
      assert(r.timing_s.total > 0 && r.timing_s.pretrain > 0);
      // Every arm's time, each within the seed's (the arm workers train arms side by side, so
      // their sum may exceed it).
      const armSeconds = ARMS.map((arm) => r.timing_s.arms[arm]?.[0] ?? -1);
      assert(armSeconds.every((t) => t > 0), `per-arm seconds: ${armSeconds}`);
      const longest = Math.max(...armSeconds);
      assert(longest <= r.timing_s.per_seed[0] + 1, `${longest} s for one arm`);
      assert(text.includes("| SSL, head discarded, new head fine-tuned |"), "the table is printed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
