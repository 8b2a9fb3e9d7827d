/** The `methods` part's grid, heads, fine-tuning plan and presets, without training. */
import {
  fineTunePlan,
  fullMethodsPart,
  headLayerCount,
  methodHeadSetting,
  methodRuns,
  parseMethodList,
  quickMethodsPart,
  runKey,
} from "../../lib/study/methods_recipe.ts";
import { ALL_PARTS, parseParts, PARTS, quickAblation } from "../../lib/study/recipe.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("methodRuns: every method x head, BYOL and SimSiam with the predictor on and off", () => {
  const runs = methodRuns(fullMethodsPart());
  assertEquals(runs.length, 21);
  assertEquals(new Set(runs.map((r) => r.name)).size, 21, "unique names");
  assertEquals(new Set(runs.map(runKey)).size, 21, "unique keys");
  assertEquals(runs.filter((r) => r.method === "simsiam").map(runKey), [
    "simsiam-none-pred",
    "simsiam-none-nopred",
    "simsiam-linear-pred",
    "simsiam-linear-nopred",
    "simsiam-mlp-pred",
    "simsiam-mlp-nopred",
  ]);
  assert(runs.some((r) => runKey(r) === "byol-none-nopred"), "the head-less BYOL demo");
  assertEquals(runs.filter((r) => r.method === "barlow").map((r) => r.predictor), [
    null,
    null,
    null,
  ]);
  assertEquals(methodRuns({ methods: ["simclr"], heads: ["mlp"] }).map((r) => r.name), [
    "simclr, MLP head",
  ]);
});

Deno.test("methodHeadSetting: none, a linear layer as wide as the projector, the method's own", () => {
  assertEquals(methodHeadSetting("simclr", "none"), { kind: "none" });
  assertEquals(methodHeadSetting("simclr", "linear"), { kind: "linear" });
  assertEquals(methodHeadSetting("byol", "linear"), { kind: "linear", outputDim: 64 });
  assertEquals(methodHeadSetting("vicreg", "linear"), { kind: "linear", outputDim: 256 });
  assertEquals(methodHeadSetting("barlow", "mlp").hidden, [256, 256]);
  assertEquals(headLayerCount(methodHeadSetting("barlow", "mlp")), 3);
  assertEquals(headLayerCount(methodHeadSetting("simclr", "linear")), 1);
  assertEquals(headLayerCount({ kind: "none" }), 0);
});

Deno.test("fineTunePlan: keep only with one output per class; skips say why", () => {
  const run = (key: string) => methodRuns(fullMethodsPart()).find((r) => runKey(r) === key)!;
  const heads = (key: string) =>
    fineTunePlan(run(key), 32, 10).map((p) => "skip" in p ? `${p.mode}: ${p.skip}` : p.head);
  assertEquals(heads("simclr-mlp"), ["new", "keep", { layers: 1 }]);
  assertEquals(heads("simclr-linear"), ["new", "keep", { layers: 1 }]);
  assertEquals(heads("simclr-none"), ["new", "keep: no head to keep", "keep-k: no head to keep"]);
  assertEquals(heads("byol-mlp-pred"), [
    "new",
    "keep: z has 64 outputs, not one per class (10)",
    { layers: 1 },
  ]);
  const deep = fineTunePlan(run("simclr-linear"), 32, 10, 2).map((p) => "skip" in p ? p.skip : "");
  assertEquals(deep[2], "the head has 1 layer(s), fewer than k = 2");
});

Deno.test("methods presets: one seed, the quick one tiny; the part only when named", () => {
  const full = fullMethodsPart();
  const quick = quickMethodsPart();
  assertEquals(full.seeds, [0]);
  assertEquals(full.pretrain.workers, "auto");
  assert(quick.pretrain.maxStepsPerEpoch! <= 3 && quick.finetune.steps < full.finetune.steps);
  assertEquals(quickAblation().methods.finetune.steps, quick.finetune.steps);
  assertEquals(JSON.parse(JSON.stringify(full)), full, "plain JSON");
  assert(!(PARTS as readonly string[]).includes("methods"), "not a default part");
  assertEquals(ALL_PARTS.at(-1), "methods");
  assertEquals(parseParts("methods"), ["methods"]);
  assertEquals(parseParts("methods,heads"), ["heads", "methods"]);
  assertThrows(() => parseParts("method"), 'unknown part "method"');
});

Deno.test("parseMethodList: the study's order, one line for a wrong name", () => {
  assertEquals(parseMethodList("vicreg, simclr"), ["simclr", "vicreg"]);
  assertThrows(() => parseMethodList("moco"), 'unknown method "moco"');
  assertThrows(() => parseMethodList(" , "), "no method given");
});
