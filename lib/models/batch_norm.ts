/**
 * Batch normalisation (Ioffe & Szegedy 2015) as a tfjs layer of our own, {@linkcode BatchNorm},
 * made with {@linkcode batchNorm} like a `tf.layers` layer, and the "modern" conv block
 * conv (no bias, same padding) → BatchNorm → ReLU, {@linkcode convBnRelu}.
 *
 * It normalises over the last (channel) axis: `[N, H, W, C]` feature maps and `[N, C]` rows
 * (projection heads with BN, as SimCLR's). Weights: `gamma` and `beta` (trainable; `scale: false`
 * / `center: false` leave them out), `moving_mean` and `moving_variance` (not trainable).
 *
 * - **Training mode** (`apply(x, { training: true })`, what our training loops pass): it
 *   normalises with the batch's mean and biased variance, and updates the moving statistics,
 *   **PyTorch's convention**: `moving = (1 - momentum) · moving + momentum · batch`, momentum 0.1
 *   by default (Keras and tfjs's own layer write `momentum` for PyTorch's `1 - momentum`), the
 *   moving variance from the batch's unbiased variance (`· n / (n - 1)`, n values per channel).
 *   The update happens inside the forward pass of a fused op with its own gradient
 *   (`lib/kernels/batch_norm_wasm.ts`), where nothing is recorded for the gradient: it works
 *   inside `tf.variableGrads` and `optimizer.minimize`, and the statistics are never
 *   differentiated.
 * - **Inference mode** (any other call: `apply(x)`, `predict`): it normalises with the moving
 *   statistics, `gamma · (x - movingMean) / sqrt(movingVariance + epsilon) + beta`.
 * - A layer that is not trainable (`layer.trainable = false`, or its gamma and beta frozen by
 *   `model.trainable = false`) runs in inference mode even when called in training mode, as in
 *   Keras: a frozen backbone keeps its statistics.
 *
 * On `wasm` the forward pass is two passes over the data and the backward pass two more, on
 * WebAssembly SIMD; on cpu and webgpu the same math runs as tfjs ops. With `relu: true` the layer
 * is BN followed by a ReLU, which on wasm costs no pass of its own (the ResNet uses it: a ReLU
 * layer's forward pass and its gradient's pass saved per convolution); with `residual: true` it
 * takes `[x, residual]` and computes `relu(BN(x) + residual)`, a residual block's end, whose add
 * and ReLU cost no pass of their own on wasm either. `epsilon` is 1e-5
 * (PyTorch's). Registered with `tf.serialization.registerClass` (class name `SslBatchNorm`), so
 * models with it save and load (`model.toJSON`, `tf.models.modelFromJSON`,
 * `lib/train/checkpoint.ts`) and are rebuilt in the pre-training workers, who send their moving
 * statistics back (`lib/train/parallel/`). tfjs's own `tf.layers.batchNormalization` uses batch
 * statistics only when called with `{ training: true }` and takes many passes; use this one.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { batchNorm, convBnRelu } from "./batch_norm.ts";
 * const model = tf.sequential({
 *   layers: [
 *     ...convBnRelu(16, { inputShape: [28, 28, 1], name: "block1", seed: 0 }),
 *     tf.layers.globalAveragePooling2d({}),
 *     tf.layers.dense({ units: 32, useBias: false }),
 *     batchNorm({ center: false }), // BN without beta, as SimCLR's last head layer
 *   ],
 * });
 * const x = tf.randomNormal([8, 28, 28, 1], 0, 1, "float32", 1);
 * const train = model.apply(x, { training: true }) as tf.Tensor; // batch statistics; updates the moving ones
 * const infer = model.predict(x) as tf.Tensor; // moving statistics
 * tf.dispose([x, train, infer]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { batchNormInference, batchNormTraining } from "../kernels/batch_norm_wasm.ts";

/** Settings of {@linkcode BatchNorm} (plus tfjs's layer settings: `name`, `trainable`, ...). */
export interface BatchNormConfig {
  /** Weight of the batch statistic in the moving average, PyTorch's convention (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  epsilon?: number;
  /** Learn an offset `beta` (default true). */
  center?: boolean;
  /** Learn a scale `gamma` (default true). */
  scale?: boolean;
  /** Start `gamma` at 0 instead of 1 (a residual branch that starts as nothing; default false). */
  zeroGamma?: boolean;
  /**
   * Apply a ReLU to the output (default false): BN + ReLU as one layer, whose ReLU costs no pass
   * of its own on wasm (applied while normalising, its mask inside BN's backward passes).
   */
  relu?: boolean;
  /**
   * Take two inputs, `[x, residual]` of one shape, and add the residual to the normalised `x`
   * before the ReLU: `relu(BN(x) + residual)`, a ResNet block's end as one layer (default false;
   * on wasm, with `relu`, the add and the ReLU cost no pass of their own).
   */
  residual?: boolean;
}

/** tfjs's own layer settings (`name`, `trainable`, `inputShape`, ...). */
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Batch normalisation over the last axis; see the module documentation. */
export class BatchNorm extends tf.layers.Layer {
  /** The name models are saved and loaded under. */
  static className = "SslBatchNorm";
  /** Weight of the batch statistic in the moving average (PyTorch's convention). */
  readonly momentum: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer has an offset `beta`. */
  readonly center: boolean;
  /** Whether the layer has a scale `gamma`. */
  readonly scale: boolean;
  /** Whether `gamma` starts at 0. */
  readonly zeroGamma: boolean;
  /** Whether a ReLU follows the normalisation, in this layer. */
  readonly relu: boolean;
  /** Whether the layer takes `[x, residual]` and adds the residual before the ReLU. */
  readonly residual: boolean;
  #gamma?: tf.LayerVariable;
  #beta?: tf.LayerVariable;
  #movingMean?: tf.LayerVariable;
  #movingVariance?: tf.LayerVariable;

  constructor(config: BatchNormConfig & LayerArgs = {}) {
    super(config);
    this.momentum = config.momentum ?? 0.1;
    this.epsilon = config.epsilon ?? 1e-5;
    this.center = config.center ?? true;
    this.scale = config.scale ?? true;
    this.zeroGamma = config.zeroGamma ?? false;
    this.relu = config.relu ?? false;
    this.residual = config.residual ?? false;
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new RangeError(`batchNorm: momentum must be in [0, 1], got ${config.momentum}`);
    }
    if (!(this.epsilon > 0) || !Number.isFinite(this.epsilon)) {
      throw new RangeError(`batchNorm: epsilon must be a finite number > 0, got ${config.epsilon}`);
    }
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (shape.length < 2 || c === null || c === undefined) {
      throw new Error(
        `batchNorm: the input needs a known last (channel) axis and a batch axis, got [${
          shape.map((d) => d ?? "null")
        }]`,
      );
    }
    const spec = () => new tf.InputSpec({ minNDim: 2, axes: { [shape.length - 1]: c } });
    this.inputSpec = this.residual ? [spec(), spec()] : [spec()];
    if (this.scale) {
      this.#gamma = this.addWeight(
        "gamma",
        [c],
        "float32",
        this.zeroGamma ? tf.initializers.zeros() : tf.initializers.ones(),
        undefined,
        true,
      );
    }
    if (this.center) {
      this.#beta = this.addWeight("beta", [c], "float32", tf.initializers.zeros(), undefined, true);
    }
    this.#movingMean = this.addWeight(
      "moving_mean",
      [c],
      "float32",
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.#movingVariance = this.addWeight(
      "moving_variance",
      [c],
      "float32",
      tf.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return this.residual && Array.isArray(inputShape[0]) ? inputShape[0] as tf.Shape : inputShape;
  }

  /** True when the layer or its gamma and beta are frozen: it then runs in inference mode. */
  get frozen(): boolean {
    const own = [this.#gamma, this.#beta].filter((w) => w !== undefined);
    return !this.trainable || (own.length > 0 && own.every((w) => !w.trainable));
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const residual = this.residual && Array.isArray(inputs) ? inputs[1] : undefined;
      if (this.residual && residual === undefined) {
        throw new Error(`batchNorm ${this.name}: a residual layer takes [x, residual]`);
      }
      const c = x.shape[x.rank - 1];
      const gamma = this.#gamma?.read() ?? tf.ones([c]);
      const beta = this.#beta?.read() ?? tf.zeros([c]);
      const movingMean = this.#movingMean!;
      const movingVariance = this.#movingVariance!;
      if (kwargs?.training !== true || this.frozen) {
        if (residual !== undefined) {
          const z = tf.add(
            batchNormInference(
              x,
              movingMean.read(),
              movingVariance.read(),
              gamma,
              beta,
              this.epsilon,
            ),
            residual,
          );
          return this.relu ? tf.relu(z) : z;
        }
        return batchNormInference(
          x,
          movingMean.read(),
          movingVariance.read(),
          gamma,
          beta,
          this.epsilon,
          this.relu,
        );
      }
      const n = x.size / c;
      const m = this.momentum;
      return batchNormTraining(
        x,
        gamma,
        beta,
        this.epsilon,
        (mean, variance) => {
          movingMean.write(tf.add(tf.mul(movingMean.read(), 1 - m), tf.mul(mean, m)));
          movingVariance.write(
            tf.add(tf.mul(movingVariance.read(), 1 - m), tf.mul(variance, (m * n) / (n - 1))),
          );
        },
        this.relu,
        residual,
      );
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      zeroGamma: this.zeroGamma,
      // Only when set: the topology of a layer without it stays as it was.
      ...(this.relu ? { relu: true } : {}),
      ...(this.residual ? { residual: true } : {}),
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(BatchNorm);

/** A {@linkcode BatchNorm} layer, as `tf.layers.batchNormalization` makes tfjs's own. */
export function batchNorm(config: BatchNormConfig & LayerArgs = {}): BatchNorm {
  return new BatchNorm(config);
}

/** Settings of {@linkcode convBnRelu}. */
export interface ConvBnReluOptions {
  /** Square kernel size (default 3). */
  kernelSize?: number;
  /** Stride (default 1). */
  strides?: number;
  /** Prefix of the three layers' names: `${name}_conv`, `${name}_bn`, `${name}_relu`. */
  name?: string;
  /**
   * tfjs seed of the convolution's initial weights (PyTorch's default, uniform in
   * ±1/√fan_in; random when omitted). tfjs reads 0 as "no seed": see `tfjsSeed` in `rng.ts`.
   */
  seed?: number;
  /** Input shape, for the first layer of a sequential model. */
  inputShape?: [number, number, number];
  /** Settings of the BatchNorm layer. */
  batchNorm?: BatchNormConfig;
}

/**
 * The modern conv block: a convolution without bias and with "same" padding (the BN's beta
 * is the bias) and PyTorch's default initialisation, {@linkcode BatchNorm}, ReLU. Returns the three layers: add them to a
 * `tf.sequential`, or apply them in turn to a symbolic tensor of a functional model.
 */
export function convBnRelu(filters: number, options: ConvBnReluOptions = {}): tf.layers.Layer[] {
  if (!Number.isInteger(filters) || filters < 1) {
    throw new RangeError(`convBnRelu: filters must be a positive integer, got ${filters}`);
  }
  const { name, seed } = options;
  return [
    tf.layers.conv2d({
      ...(options.inputShape ? { inputShape: options.inputShape } : {}),
      filters,
      kernelSize: options.kernelSize ?? 3,
      strides: options.strides ?? 1,
      padding: "same",
      useBias: false,
      // PyTorch's default, uniform in ±1/√fan_in: with batch normalisation after it the scale
      // of the weights does not change the output, but it sets the effective learning rate
      // of Adam (a step of size lr moves small weights further). He-normal weights are 2.4x
      // larger: 4 epochs of SimCLR then gave a linear probe of 76% against 85% with these.
      kernelInitializer: tf.initializers.varianceScaling({
        scale: 1 / 3,
        mode: "fanIn",
        distribution: "uniform",
        ...(seed === undefined ? {} : { seed }),
      }),
      ...(name ? { name: `${name}_conv` } : {}),
    }),
    batchNorm({ ...options.batchNorm, ...(name ? { name: `${name}_bn` } : {}) }),
    tf.layers.reLU(name ? { name: `${name}_relu` } : {}),
  ];
}
