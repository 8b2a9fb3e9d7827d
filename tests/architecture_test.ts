/**
 * The layer rules of docs/architecture.md, checked on the code: imports under `lib/` run one way
 * (notebook helpers → study → experiment → export → pipeline → train → models/loss/data/augment/
 * eval → kernels and the leaf modules), never back up, and no module imports itself round a cycle.
 * `lib/mod.ts` re-exports every layer and is left out.
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { assertEquals } from "./assert.ts";

const LIB = fileURLToPath(new URL("../lib/", import.meta.url));

/** The layer of a module under lib/ (0 is the top). */
function layerOf(path: string): number {
  const [top] = path.split("/");
  const ranks: Record<string, number> = {
    notebook: 0,
    study: 1,
    experiment: 2,
    export: 3,
    pipeline: 4,
    train: 5,
    models: 6,
    loss: 6,
    data: 6,
    augment: 6,
    eval: 6,
    cli: 0,
  };
  return top in ranks ? ranks[top] : 7; // kernels/, backend.ts, rng.ts, provenance.ts, html.ts
}

function modules(dir: string, out: string[] = []): string[] {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) modules(p, out);
    else if (e.name.endsWith(".ts")) out.push(relative(LIB, p));
  }
  return out;
}

/** The lib/ modules a module imports (static, dynamic and type-only; doc examples left out). */
function importsOf(path: string): string[] {
  const text = Deno.readTextFileSync(join(LIB, path))
    .replace(/\/\*\*[\s\S]*?\*\//g, "") // doc comments hold examples with imports
    .replace(/^\s*\/\/.*$/gm, "");
  const found = new Set<string>();
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
    const target = relative(LIB, join(LIB, path, "..", m[1]));
    if (!target.startsWith("..")) found.add(target);
  }
  return [...found];
}

const all = modules(LIB).filter((p) => p !== "mod.ts").sort();
const graph = new Map(all.map((p) => [p, importsOf(p)]));

Deno.test("lib/: no module imports a layer above its own", () => {
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (layerOf(to) < layerOf(from)) upward.push(`${from} → ${to}`);
    }
  }
  assertEquals(upward, []);
});

Deno.test("lib/: no import cycles", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (p: string, stack: string[]) => {
    if (state.get(p) === "done") return;
    if (state.get(p) === "open") {
      cycles.push([...stack.slice(stack.indexOf(p)), p].join(" → "));
      return;
    }
    state.set(p, "open");
    for (const q of graph.get(p) ?? []) visit(q, [...stack, p]);
    state.set(p, "done");
  };
  for (const p of all) visit(p, []);
  assertEquals(cycles, []);
});

Deno.test("lib/: the checker reads every kind of import (multi-line, type-only, re-exports)", () => {
  assertEquals(graph.get("pipeline/pretrain.ts")!.includes("train/pretrain.ts"), true);
  assertEquals(
    graph.get("notebook/step_arms_ahead.ts")!.includes("experiment/pooled_arms.ts"),
    true,
  );
  assertEquals(graph.get("notebook/steps.ts")!.includes("notebook/step_arms_ahead.ts"), true);
  const edges = [...graph.values()].reduce((n, t) => n + t.length, 0);
  assertEquals(edges > 3 * graph.size / 2, true, `${edges} imports among ${graph.size} modules`);
  assertEquals(layerOf("train/pretrain.ts") > layerOf("pipeline/pretrain.ts"), true);
});
