/**
 * Dropout (Srivastava et al. 2014) that is both random and reproducible: {@linkcode Dropout}
 * zeroes each value with probability `rate` in training calls (and scales the rest by
 * `1 / (1 - rate)`), and passes values through otherwise — like `tf.layers.dropout`, but with
 * a mask that changes at every call and still follows the seed. tfjs's own layer, given a seed,
 * draws the *same* mask at every call (a fixed sub-network, not dropout); without one it draws
 * from `Math.random` (a run cannot be repeated). This one draws call k's mask from the seed
 * and k.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dropout } from "./dropout.ts";
 * const layer = dropout({ rate: 0.5, seed: 7 });
 * const x = tf.ones([2, 8]);
 * const a = layer.apply(x, { training: true }) as tf.Tensor; // some zeros, the rest 2
 * const b = layer.apply(x, { training: true }) as tf.Tensor; // another mask
 * const c = layer.apply(x) as tf.Tensor; // inference: x itself
 * tf.dispose([x, a, b, c]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Settings of {@linkcode Dropout}. */
export interface DropoutConfig {
  /** Probability of dropping a value, in [0, 1). */
  rate: number;
  /** Seed of the masks (random when omitted). */
  seed?: number;
}

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Dropout with a fresh, seeded mask at every training call; see the module doc. */
export class Dropout extends tf.layers.Layer {
  /** The name models are saved and loaded under. */
  static className = "SslDropout";
  readonly rate: number;
  readonly seed?: number;
  #calls = 0;

  constructor(config: DropoutConfig & LayerArgs) {
    super(config);
    if (!(config.rate >= 0 && config.rate < 1)) {
      throw new RangeError(`dropout: rate must be in [0, 1), got ${config.rate}`);
    }
    this.rate = config.rate;
    this.seed = config.seed;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs?.training !== true || this.rate === 0) return tf.clone(x);
      // tfjs reads a seed of 0 as "none": keep every call's seed positive.
      const seed = this.seed === undefined ? undefined : this.seed * 100_003 + ++this.#calls;
      const keep = tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, "float32", seed), this.rate);
      return tf.mul(x, tf.mul(tf.cast(keep, "float32"), 1 / (1 - this.rate)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      rate: this.rate,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(Dropout);

/** A {@linkcode Dropout} layer, as `tf.layers.dropout` makes tfjs's own. */
export function dropout(config: DropoutConfig & LayerArgs): Dropout {
  return new Dropout(config);
}
