/** Hand-made results of the `methods` part for the report, chart and notebook tests. */
import { fullMethodsPart } from "../../lib/study/methods_recipe.ts";
import {
  isCollapsed,
  type MethodRunResult,
  methodsLabelFreeChoice,
  type MethodsPartResults,
} from "../../lib/study/methods_report.ts";

const layer = (layer: string, depth: number, dim: number, rank: number, probe: number) => ({
  layer,
  depth,
  dim,
  rank_me: rank,
  spectrum: Array.from({ length: dim }, (_, i) => 1 / (i + 1)),
  probe,
});

/**
 * A run: `h`/`z` probe test accuracies, `evalH` the linear evaluation of h and RankMe (the uncentred RankMe is half of it), the
 * spread of z (default 0.8), fine-tunes as [validation, test] or skipped.
 */
export function fakeRun(
  key: string,
  o: {
    seed?: number;
    h: number;
    z: number;
    rankH: number;
    rankZ: number;
    spreadZ?: number;
    /** Linear evaluation of h (test); z gets 0.05 less. Absent: an earlier version's run. */
    evalH?: number;
    discard: [number, number];
    keep?: [number, number];
    keepK?: [number, number];
  },
): MethodRunResult {
  const [method, head, p] = key.split("-") as [MethodRunResult["method"], "none", string?];
  const predictor = p === undefined ? null : p === "pred";
  const ft = (mode: "discard" | "keep" | "keep-k", v?: [number, number]) =>
    v ? { mode, validation: v[0], test: v[1], seconds: 1 } : { mode, skipped: "no" };
  return {
    name: `${method}, ${head} head${predictor === false ? ", no predictor" : ""}`,
    key,
    method,
    head,
    head_setting: head,
    predictor,
    seed: o.seed ?? 0,
    probe: { h: { validation: o.h, test: o.h }, z: { validation: o.z, test: o.z } },
    ...(o.evalH === undefined ? {} : {
      linear_eval: {
        images: 20000,
        h: { validation: o.evalH, test: o.evalH },
        z: { validation: o.evalH - 0.05, test: o.evalH - 0.05 },
      },
    }),
    knn: { h: o.h, z: o.z },
    rank_me: { h: o.rankH, z: o.rankZ },
    rank_me_uncentred: { h: o.rankH / 2, z: o.rankZ / 2 },
    spread: { h: 0.5, z: o.spreadZ ?? 0.8 },
    zero_h: 0,
    collapsed: isCollapsed(
      { rankH: o.rankH / 2, rankZ: o.rankZ / 2, spreadZ: o.spreadZ ?? 0.8 },
      2,
      0.1,
    ),
    layers: [
      layer("h", 0, 32, o.rankH, o.h),
      layer("block 1", 1, 128, 50, 0.8),
      layer("z", 2, 10, o.rankZ, o.z),
    ],
    transforms: {
      rotation: {
        chance: 0.25,
        accuracy: [{ layer: "h", accuracy: 0.7 }, { layer: "z", accuracy: 0.4 }],
      },
      mirror: {
        chance: 0.5,
        accuracy: [{ layer: "h", accuracy: 0.8 }, { layer: "z", accuracy: 0.6 }],
      },
    },
    fine_tune: [ft("discard", o.discard), ft("keep", o.keep), ft("keep-k", o.keepK)],
    pretrain_loss: [1, 0.5],
    pretrain_s: 10,
    seconds: 20,
  };
}

/** The part with five runs; `withEval`: each run has its linear evaluation (this version). */
export function fakeResults(withEval = false): MethodsPartResults {
  const ev = (v: number) => (withEval ? { evalH: v } : {});
  const config = {
    ...fullMethodsPart(),
    methods: ["simclr", "simsiam", "byol"],
  } as MethodsPartResults["config"];
  const runs = [
    fakeRun("simclr-mlp", {
      ...ev(0.95),
      h: 0.9,
      z: 0.8,
      rankH: 20,
      rankZ: 7,
      discard: [0.9, 0.91],
      keep: [0.93, 0.92],
      keepK: [0.92, 0.93],
    }),
    fakeRun("simsiam-mlp-pred", {
      ...ev(0.92),
      h: 0.88,
      z: 0.85,
      rankH: 18,
      rankZ: 12,
      discard: [0.9, 0.9],
      keepK: [0.89, 0.91],
    }),
    fakeRun("simsiam-mlp-nopred", {
      ...ev(0.3),
      h: 0.12,
      z: 0.11,
      rankH: 1.1,
      rankZ: 1.0,
      spreadZ: 0.02,
      discard: [0.5, 0.5],
      keepK: [0.4, 0.4],
    }),
    fakeRun("byol-mlp-pred", {
      ...ev(0.89),
      h: 0.86,
      z: 0.8,
      rankH: 22,
      rankZ: 10,
      discard: [0.88, 0.89],
      keepK: [0.87, 0.86],
    }),
    fakeRun("byol-none-nopred", {
      ...ev(0.2),
      h: 0.1,
      z: 0.1,
      rankH: 0,
      rankZ: 0,
      discard: [0.3, 0.3],
    }),
  ];
  return {
    config,
    seeds: [0],
    data: { labels: 200, validation: 1000, test: 10000, unlabelled: 58800 },
    strong: [{ steps: 300, what: "the fine-tunes' budget", validation: [0.8], test: [0.78] }],
    runs,
    label_free: methodsLabelFreeChoice(runs),
  };
}
