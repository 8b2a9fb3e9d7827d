/**
 * Training curves of supervised runs (fine-tuned arms, supervised baselines, students) against
 * optimiser steps: the records of `trainSupervised` come every `evalEvery` steps (one epoch by
 * default) and each carries its `step`, so runs with different budgets, batch sizes or label
 * counts share one x axis. Accuracies go on the left axis, losses on the right.
 *
 * @example
 * ```ts
 * import { trainingCurves } from "./curves.ts";
 * const history = [
 *   { epoch: 0, step: 3, loss: 2.2, trainAccuracy: 0.2, learningRate: 1e-3, validationAccuracy: 0.3, seconds: 1 },
 *   { epoch: 1, step: 6, loss: 1.9, trainAccuracy: 0.4, learningRate: 1e-3, validationAccuracy: 0.5, seconds: 1 },
 * ];
 * const chart = trainingCurves({ "strong supervised": { history } }, {
 *   metrics: ["validation accuracy", "training loss"],
 *   title: "Fine-tuning",
 * }); // a PlotlyChart: display(chart) in a notebook
 * ```
 *
 * @module
 */
import type { SupervisedEpoch } from "../train/supervised.ts";
import { type Layout, plot, type PlotlyChart, type Trace } from "./plotly_chart.ts";

/** What a curve shows, per record. */
export type CurveMetric =
  | "validation accuracy"
  | "training accuracy"
  | "training loss"
  | "validation loss";

const READ: Record<CurveMetric, (e: SupervisedEpoch) => number | undefined> = {
  "validation accuracy": (e) => e.validationAccuracy,
  "training accuracy": (e) => e.trainAccuracy,
  "training loss": (e) => e.loss,
  "validation loss": (e) => e.validationLoss,
};

const isLoss = (m: CurveMetric) => m.endsWith("loss");

/** Options of {@linkcode trainingCurves}. */
export interface TrainingCurveOptions {
  /** The series of every run (default: validation accuracy, training accuracy, training loss). */
  metrics?: readonly CurveMetric[];
  /** Chart title. */
  title?: string;
}

/**
 * One chart of the records of every run (name → its `history`), against optimiser steps: a
 * line per run and metric, named "run: metric" (just "run" when there is one metric); losses
 * dotted on a right axis. A record without a value (no validation images) leaves a gap.
 * Throws a `RangeError` when there is no run or no metric.
 */
export function trainingCurves(
  runs: Record<string, { history: readonly SupervisedEpoch[] }>,
  options: TrainingCurveOptions = {},
): PlotlyChart {
  const metrics = options.metrics ??
    ["validation accuracy", "training accuracy", "training loss"] as const;
  const names = Object.keys(runs);
  if (names.length === 0 || metrics.length === 0) {
    throw new RangeError(
      `trainingCurves: needs at least one run and one metric, got ${names.length} and ` +
        `${metrics.length}`,
    );
  }
  const traces: Trace[] = [];
  for (const name of names) {
    const { history } = runs[name];
    for (const m of metrics) {
      traces.push({
        type: "scatter",
        mode: history.length > 60 ? "lines" : "lines+markers",
        name: metrics.length === 1 ? name : `${name}: ${m}`,
        x: history.map((e) => e.step),
        y: history.map((e) => READ[m](e) ?? null),
        ...(isLoss(m) && metrics.some((k) => !isLoss(k))
          ? { yaxis: "y2", line: { dash: "dot" } }
          : {}),
      });
    }
  }
  const accuracies = metrics.filter((m) => !isLoss(m));
  const losses = metrics.filter(isLoss);
  const layout: Layout = {
    title: { text: options.title ?? "" },
    xaxis: { title: { text: "optimiser steps" } },
    yaxis: { title: { text: accuracies.length ? "accuracy" : "loss" } },
    legend: { orientation: "h", y: -0.2 },
  };
  if (accuracies.length && losses.length) {
    layout.yaxis2 = {
      title: { text: "loss" },
      overlaying: "y",
      side: "right",
      showgrid: false,
    };
  }
  return plot(traces, layout);
}
