/**
 * A chart that updates in place: ONE output in the notebook, redrawn with
 * new data (the Deno kernel's `display_data` with a `display_id`, then
 * `update_display_data` with the same id), not a new chart per epoch.
 * Outside a kernel it draws nothing (the command line prints its own lines).
 * {@linkcode pretrainChart} is the live view of pre-training: loss, and the
 * monitoring metrics of `lib/eval/monitor.ts`, epoch by epoch.
 *
 * @example
 * ```ts
 * import { liveChart, pretrainChart } from "./live_chart.ts";
 * const live = liveChart();
 * const history = [
 *   { epoch: 0, loss: 6.1, learningRate: 1e-3, seconds: 30, steps: 116, contrastiveAccuracy: 0.2, knnAccuracy: 0.6, zStd: 0.2, zDim: 10, rankH: 20, hDim: 32, rankZ: 6 },
 * ];
 * await live.update(pretrainChart(history)); // in a notebook: drawn; the next update redraws it
 * ```
 *
 * @module
 */
import { emitBundle, inKernel, type MimeBundle } from "./display.ts";
import type { PlotlyChart } from "./plotly_chart.ts";
import { linePlot } from "./plot.ts";
import type { PretrainEpoch } from "../train/pretrain.ts";

/** A chart output redrawn in place; see the module doc. */
export interface LiveChart {
  /** Draws `chart` (the first call) or redraws the output with it (later calls). */
  update(chart: PlotlyChart): Promise<void>;
  /** The Jupyter display id (kernel only). */
  readonly displayId?: string;
}

/** Options of {@linkcode liveChart} (tests inject the message sink). */
export interface LiveChartOptions {
  /** Send to a kernel (default: when running in one). */
  kernel?: boolean;
  /** Message sink (default `Deno.jupyter.broadcast`). */
  broadcast?: (msgType: string, content: Record<string, unknown>) => unknown;
}

let counter = 0;

/** A live chart; see the module doc. */
export function liveChart(options: LiveChartOptions = {}): LiveChart {
  const kernel = options.kernel ?? inKernel();
  const broadcast = options.broadcast ??
    ((t: string, c: Record<string, unknown>) => Deno.jupyter.broadcast(t, c));
  const displayId = kernel
    ? `ssl-live-${Date.now().toString(36)}-${(counter++).toString(36)}`
    : undefined;
  let shown = false;
  return {
    displayId,
    async update(chart) {
      if (!kernel) return;
      // The first chart of a notebook carries plotly.js in an output of its own.
      const bundle: MimeBundle = await chart.render(options.broadcast ? undefined : emitBundle);
      await broadcast(shown ? "update_display_data" : "display_data", {
        data: bundle,
        metadata: {},
        transient: { display_id: displayId },
      });
      shown = true;
    },
  };
}

/**
 * The chart of pre-training so far: the NT-Xent loss (right axis) and, when
 * measured, the contrastive top-1 accuracy, the kNN accuracy of h on the
 * validation labels, the collapse indicator of z as a share of 1/√d and the
 * effective ranks (RankMe) of h and z as shares of their widths.
 */
export function pretrainChart(history: readonly PretrainEpoch[]): PlotlyChart {
  const x = history.map((e) => e.epoch + 1);
  const ys: Record<string, number[]> = {};
  if (history.some((e) => e.contrastiveAccuracy !== undefined)) {
    ys["contrastive accuracy"] = history.map((e) => e.contrastiveAccuracy ?? NaN);
    ys["kNN accuracy of h (validation)"] = history.map((e) => e.knnAccuracy ?? NaN);
    ys["z spread x √d (1 = healthy, 0 = collapsed)"] = history.map((e) =>
      e.zStd === undefined ? NaN : e.zStd * Math.sqrt(e.zDim ?? 1)
    );
    if (history.some((e) => e.rankZ !== undefined)) {
      // RankMe as a share of the width: 1 = every direction used, 1/d = collapsed to a line.
      ys["effective rank of h / its width"] = history.map((e) =>
        e.rankH === undefined ? NaN : e.rankH / (e.hDim ?? 1)
      );
      ys["effective rank of z / d"] = history.map((e) =>
        e.rankZ === undefined ? NaN : e.rankZ / (e.zDim ?? 1)
      );
    }
  }
  ys["NT-Xent loss"] = history.map((e) => e.loss);
  return linePlot({ x, ys }, {
    title: `Pre-training, live (${history.length} epoch${history.length === 1 ? "" : "s"})`,
    xTitle: "epoch",
    yTitle: "accuracy / spread",
    y2: { names: ["NT-Xent loss"], title: "loss" },
    markers: true,
  });
}
