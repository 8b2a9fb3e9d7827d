/**
 * A pre-training process killed with SIGKILL while it writes a checkpoint (its temporary folder
 * `run.tmp-…` is on disk), then run again: the folder holds the previous epoch's checkpoint (or
 * none), the rerun resumes from it (or restarts) to the same losses as a run never killed, and
 * the leftovers of the killed write are gone.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Checkpoint } from "../../lib/train/checkpoint.ts";
import { assert, assertEquals } from "../assert.ts";

const child = new URL("../train/fixtures/pretrain_child.ts", import.meta.url).pathname;
const root = new URL("../..", import.meta.url).pathname;

async function runChild(dir: string, epochs: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child, dir, String(epochs)],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(text.trim().split("\n").at(-1)!) as { resumedAt: number; losses: number[] };
}

/** Starts a long run and kills it the moment a checkpoint write is under way (after epoch 2). */
async function killDuringWrite(dir: string): Promise<boolean> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child, dir, "400"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let epochs = 0;
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      epochs += (decoder.decode(chunk).match(/^epoch /gm) ?? []).length;
    }
  })();
  const parent = join(dir, "..");
  const writing = () => readdirSync(parent).some((n) => n.startsWith("run.tmp-"));
  const end = performance.now() + 60_000;
  while (performance.now() < end) {
    if (epochs >= 2 && writing()) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  proc.kill("SIGKILL");
  await proc.status;
  await reading;
  return writing(); // still there after the kill: it died in the middle of the write
}

Deno.test("a run killed during a checkpoint write resumes cleanly", async () => {
  const straight = await runChild("-", 8);
  let caught = 0;
  for (let attempt = 0; attempt < 5 && caught === 0; attempt++) {
    const tmp = await Deno.makeTempDir({ prefix: "ssl-kill-" });
    const dir = join(tmp, "run");
    try {
      const midWrite = await killDuringWrite(dir);
      if (midWrite) caught++;
      // What is at `dir` is a whole checkpoint (or nothing): never half of one.
      const saved = Checkpoint.find(dir, { kind: "pretrain" });
      const resumed = await runChild(dir, 8);
      const epoch = saved ? saved.json<{ epoch: number }>("state.json").epoch : -1;
      assertEquals(resumed.resumedAt, epoch + 1, "resumes after the last whole checkpoint");
      assertEquals(resumed.losses, straight.losses, "the same losses as a run never killed");
      assertEquals(readdirSync(tmp), ["run"], "no leftovers of the killed write");
      assert(existsSync(join(dir, "manifest.json")));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
  assert(caught > 0, "no kill landed in the middle of a write in 5 tries");
});
