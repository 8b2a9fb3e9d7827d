import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  dataDir,
  isTruthyFlag,
  notebookMethod,
  notebookMode,
  projectRoot,
  runDir,
  saveResults,
} from "../../lib/notebook/config.ts";
import { notebookRecipe } from "../../lib/notebook/setup.ts";
import { headSettingText } from "../../lib/models/heads/head_setting.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** Runs `fn` with environment variables set (undefined: unset), restoring them afterwards. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => unknown) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      x === undefined ? Deno.env.delete(k) : Deno.env.set(k, x);
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

Deno.test("config: notebookMode reads SSL_QUICK", async () => {
  await withEnv({ SSL_QUICK: "1" }, () => assertEquals(notebookMode(), { quick: true }));
  await withEnv({ SSL_QUICK: "true" }, () => assertEquals(notebookMode().quick, true));
  await withEnv({ SSL_QUICK: "0" }, () => assertEquals(notebookMode().quick, false));
  await withEnv({ SSL_QUICK: undefined }, () => assertEquals(notebookMode().quick, false));
  assertEquals(isTruthyFlag(" yes "), true);
  assertEquals(isTruthyFlag("no"), false);
});

Deno.test("config: projectRoot and dataDir point into the repository", () => {
  assert(existsSync(join(projectRoot(), "deno.json")), projectRoot());
  assert(existsSync(join(projectRoot(), "lib", "notebook", "config.ts")));
  assertEquals(dataDir(), join(projectRoot(), "data"));
});

Deno.test("config: runDir and saveResults use SSL_RUN_DIR", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssl-config-test-" });
  try {
    await withEnv({ SSL_RUN_DIR: dir }, () => {
      assertEquals(runDir(), dir);
      const path = saveResults("03_pretrain", { acc: 0.5, curve: new Float32Array([0.5, 0.25]) });
      assertEquals(path, join(dir, "results-03_pretrain.json"));
      assertEquals(JSON.parse(readFileSync(path, "utf8")), { acc: 0.5, curve: [0.5, 0.25] });
      assertThrows(() => saveResults("../evil", {}), "name must be");
    });
    await withEnv({ SSL_RUN_DIR: undefined }, () => assertEquals(runDir(), undefined));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the method of a configuration cell, checked in one line", () => {
  assertEquals(notebookMethod(undefined), "simclr");
  assertEquals(notebookMethod("simsiam"), "simsiam");
  const err = assertThrows(
    () => notebookMethod("moco"),
    'configuration: method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"',
  );
  assert(err instanceof RangeError && !err.message.includes("\n"));
  const byol = notebookRecipe({
    dataset: "mnist",
    labels: 200,
    seed: 0,
    quick: true,
    method: "byol",
  });
  assertEquals([byol.pretrain.method, headSettingText(byol.head)], ["byol", "mlp-bn:128,64"]);
  const simclr = notebookRecipe({ dataset: "mnist", labels: 200, seed: 0, quick: true });
  assertEquals(simclr.pretrain.method, undefined, "SimCLR's recipe as before");
  assertThrows(
    () => notebookRecipe({ dataset: "mnist", labels: 200, seed: 0, quick: true, method: "x" }),
    "configuration: method must be one of",
  );
});
