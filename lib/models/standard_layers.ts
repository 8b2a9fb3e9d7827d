/**
 * Our two layers as tfjs's standard ones, and back, in a saved model's topology (the
 * `modelTopology` of a `model.json`): a plain tfjs in a browser, or the official tfjs → Keras
 * converter, knows `BatchNormalization` and `Dropout` but not `SslBatchNorm` and `SslDropout`.
 *
 * - `SslBatchNorm` → `BatchNormalization` over the last axis with the same `epsilon`, `center`
 *   and `scale`; the momentum in Keras's convention (`1 - ours`); gamma initialised to zeros
 *   where ours was `zeroGamma`. The weights keep their names (`<layer>/gamma`, `beta`,
 *   `moving_mean`, `moving_variance`), so the same weight file loads into either topology. At
 *   inference both compute `gamma · (x - movingMean) / sqrt(movingVariance + epsilon) + beta`.
 * - `SslDropout` → `Dropout` with the same rate and seed: both are the identity at inference.
 * - `SslBatchNorm` with `relu` (BN and its ReLU as one layer, as the ResNet has them) →
 *   `BatchNormalization`, then a `ReLU` layer named `<layer>_relu` that takes its place as the
 *   input of the layers after it (and as a model output); with `residual` (a ResNet block's end,
 *   `relu(BN(x) + residual)`), an `Add` layer `<layer>_add` of the BN's output and the residual
 *   between them.
 *
 * Training differs (tfjs's BatchNormalization is slow and our training loops refuse it), so
 * {@linkcode fromStandardTopology} turns an exported topology back into ours when this library
 * loads an export (a BN + ReLU pair stays two layers, BN + Add + ReLU three, the same math).
 * Nested models (a `Sequential` inside a functional model) are converted too.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { modernCnn } from "./modern_cnn.ts";
 * import { fromStandardTopology, layerClassNames, toStandardTopology } from "./standard_layers.ts";
 * const f = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
 * const ours = f.toJSON(null, false) as object;
 * const standard = toStandardTopology(ours);
 * layerClassNames(standard).includes("SslBatchNorm"); // false: "BatchNormalization" instead
 * const back = await tf.models.modelFromJSON({
 *   modelTopology: fromStandardTopology(standard) as tf.io.ModelJSON["modelTopology"],
 * });
 * back.dispose();
 * f.dispose();
 * ```
 *
 * @module
 */
// Our layers register themselves with tfjs when imported: a topology converted back needs them.
import "./batch_norm.ts";
import "./dropout.ts";

type Json = Record<string, unknown>;

const initializer = (name: "Zeros" | "Ones") => ({ class_name: name, config: {} });

/** Keras's and tfjs's momentum from PyTorch's (ours), rounded so that 0.1 gives 0.9. */
const flipMomentum = (m: number) => Number((1 - m).toPrecision(12));

/** The settings every layer config carries (name, trainable, input shape, dtype). */
function common(config: Json): Json {
  const out: Json = { name: config.name, trainable: config.trainable ?? true };
  for (const k of ["batch_input_shape", "dtype"]) if (k in config) out[k] = config[k];
  return out;
}

function standardLayer(layer: Json): Json {
  const config = layer.config as Json;
  if (layer.class_name === "SslBatchNorm") {
    return {
      ...layer,
      class_name: "BatchNormalization",
      config: {
        axis: -1,
        momentum: flipMomentum(Number(config.momentum ?? 0.1)),
        epsilon: config.epsilon ?? 1e-5,
        center: config.center ?? true,
        scale: config.scale ?? true,
        beta_initializer: initializer("Zeros"),
        gamma_initializer: initializer(config.zero_gamma ? "Zeros" : "Ones"),
        moving_mean_initializer: initializer("Zeros"),
        moving_variance_initializer: initializer("Ones"),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
        ...common(config),
      },
    };
  }
  if (layer.class_name === "SslDropout") {
    return {
      ...layer,
      class_name: "Dropout",
      config: {
        rate: config.rate,
        noise_shape: null,
        seed: config.seed ?? null,
        ...common(config),
      },
    };
  }
  return layer;
}

function ourLayer(layer: Json): Json {
  const config = layer.config as Json;
  if (layer.class_name === "BatchNormalization") {
    const axis = config.axis as number | number[] | undefined;
    if (axis !== undefined && axis !== -1 && !(Array.isArray(axis) && axis.join() === "-1")) {
      throw new Error(
        `fromStandardTopology: layer ${config.name} normalises axis ${
          JSON.stringify(axis)
        }; only the last axis (-1) has an equivalent`,
      );
    }
    const gammaInit = (config.gamma_initializer as Json | undefined)?.class_name;
    return {
      ...layer,
      class_name: "SslBatchNorm",
      config: {
        momentum: flipMomentum(Number(config.momentum ?? 0.99)),
        epsilon: config.epsilon ?? 1e-3,
        center: config.center ?? true,
        scale: config.scale ?? true,
        zero_gamma: gammaInit === "Zeros",
        ...common(config),
      },
    };
  }
  if (layer.class_name === "Dropout") {
    return {
      ...layer,
      class_name: "SslDropout",
      config: {
        rate: config.rate,
        ...(config.seed === null || config.seed === undefined ? {} : { seed: config.seed }),
        ...common(config),
      },
    };
  }
  return layer;
}

/** Applies `convert` to every layer of a topology, nested models included; returns a copy. */
function mapLayers(topology: object, convert: (layer: Json) => Json): Json {
  const visit = (node: Json): Json => {
    const config = node.config as Json | undefined;
    const layers = config?.layers;
    const inner = Array.isArray(layers)
      ? { ...node, config: { ...config, layers: layers.map((l) => visit(l as Json)) } }
      : node;
    return convert(inner);
  };
  const t = topology as Json;
  // A model.json's `modelTopology` may wrap the model in `model_config` (Keras's own files).
  if (t.model_config) return { ...t, model_config: visit(t.model_config as Json) };
  return visit(t);
}

/** A name not in `taken`: `wanted`, else `wanted_2`, `wanted_3`, ... */
function freshName(wanted: string, taken: Set<string>): string {
  let name = wanted;
  for (let i = 2; taken.has(name); i++) name = `${wanted}_${i}`;
  taken.add(name);
  return name;
}

/**
 * A model node whose `SslBatchNorm` layers with `relu` or `residual` are each split into the BN
 * (without either), a tfjs `Add` of the BN's output and the residual (`<bn>_add`, with
 * `residual`) and a tfjs `ReLU` layer (`<bn>_relu`, with `relu`); in a functional model, every
 * reference to the BN's output (other layers' inbound nodes, the model's outputs) moves to the
 * last of them.
 */
function splitBnRelu(node: Json): Json {
  const config = node.config as Json | undefined;
  const layers = config?.layers;
  if (!Array.isArray(layers)) return node;
  const fused = (l: Json) =>
    l.class_name === "SslBatchNorm" &&
    ((l.config as Json)?.relu === true || (l.config as Json)?.residual === true);
  if (!layers.some((l) => fused(l as Json))) return node;
  const taken = new Set(layers.map((l) => String(((l as Json).config as Json)?.name)));
  const renamed = new Map<string, string>();
  const inserted = new Set<Json>();
  const adds = new Set<Json>();
  const out: Json[] = [];
  for (const item of layers as Json[]) {
    if (!fused(item)) {
      out.push(item);
      continue;
    }
    const { relu: withRelu, residual: withResidual, ...bnConfig } = item.config as Json;
    const bnName = String(bnConfig.name);
    const inbound = item.inbound_nodes;
    const nodes = Array.isArray(inbound) ? inbound as unknown[][] : undefined;
    out.push({
      ...item,
      config: bnConfig,
      ...(nodes && withResidual === true ? { inbound_nodes: nodes.map((n) => [n[0]]) } : {}),
    });
    let last = bnName;
    const next = (layer: Json, name: string, refs: (n: unknown[], k: number) => unknown[]) => {
      if (nodes) {
        layer.name = name;
        layer.inbound_nodes = nodes.map(refs);
      }
      out.push(layer);
      inserted.add(layer);
      last = name;
    };
    if (withResidual === true) {
      const addName = freshName(`${bnName}_add`, taken);
      const add: Json = { class_name: "Add", config: { name: addName, trainable: true } };
      adds.add(add);
      next(add, addName, (n, k) => [[bnName, k, 0, {}], n[1]]);
    }
    if (withRelu === true) {
      const from = last;
      const reluName = freshName(`${bnName}_relu`, taken);
      const relu: Json = {
        class_name: "ReLU",
        config: { max_value: null, name: reluName, trainable: bnConfig.trainable ?? true },
      };
      next(relu, reluName, (_, k) => [[from, k, 0, {}]]);
    }
    if (nodes) renamed.set(bnName, last);
  }
  const moved = (ref: unknown) =>
    Array.isArray(ref) && renamed.has(ref[0]) ? [renamed.get(ref[0]), ...ref.slice(1)] : ref;
  // Every layer but the inserted ones now reads the last inserted layer's output where it read the
  // BN's; an inserted Add's residual (its second input) moves too.
  const rewired = out.map((l) => {
    if (!Array.isArray(l.inbound_nodes)) return l;
    if (adds.has(l)) {
      return {
        ...l,
        inbound_nodes: (l.inbound_nodes as unknown[][]).map(([a, b]) => [a, moved(b)]),
      };
    }
    if (inserted.has(l)) return l;
    return { ...l, inbound_nodes: (l.inbound_nodes as unknown[][]).map((n) => n.map(moved)) };
  });
  const outputs = config!.output_layers;
  return {
    ...node,
    config: {
      ...config,
      layers: rewired,
      ...(Array.isArray(outputs) ? { output_layers: outputs.map(moved) } : {}),
    },
  };
}

/** The topology with our layers replaced by tfjs's standard ones (see the module doc). */
export function toStandardTopology(topology: object): Json {
  return mapLayers(mapLayers(topology, splitBnRelu), standardLayer);
}

/** The topology of an export with tfjs's BatchNormalization and Dropout as ours again. */
export function fromStandardTopology(topology: object): Json {
  return mapLayers(topology, ourLayer);
}

/** Every layer class name in a topology (nested models included), in order. */
export function layerClassNames(topology: object): string[] {
  const names: string[] = [];
  mapLayers(topology, (layer) => {
    names.push(String(layer.class_name));
    return layer;
  });
  return names;
}
