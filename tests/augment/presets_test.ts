import { Rng } from "../../lib/rng.ts";
import {
  augmentPipeline,
  checkPresetOptions,
  COLOUR_AUGMENT_DEFAULTS,
  colourAugment,
  CROP_FLIP_DEFAULTS,
  cropFlipAugment,
  DIGIT_AUGMENT_DEFAULTS,
  digitAugment,
  makeAugmenter,
  mildAffine,
  type PresetRules,
} from "../../lib/augment/presets.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

interface Toy {
  strength: number;
  p: number;
  shift: [number, number];
  span: [number, number];
  kernel: number;
  steps: number[];
}
const TOY: Toy = { strength: 1, p: 0.5, shift: [0.1, 0.1], span: [1, 2], kernel: 3, steps: [] };
const TOY_RULES: PresetRules<Toy> = {
  strength: { number: [0, 1] },
  p: "probability",
  shift: "fractions",
  span: { range: [0.5, 4] },
  kernel: "odd",
  steps: "list",
};
const check = (o: Partial<Toy>) => checkPresetOptions("toy", o, TOY, TOY_RULES);

Deno.test("checkPresetOptions: every rule accepts what it should and names what it rejects", () => {
  check({});
  check({ ...TOY });
  check({ strength: 0, p: 1, shift: [0, 1], span: [0.5, 0.5], kernel: 1, steps: [1, 2] });
  const bad: [Partial<Toy>, string][] = [
    [{ strength: 1.01 }, "strength"],
    [{ strength: -0.1 }, "strength"],
    [{ strength: NaN }, "strength"],
    [{ strength: "1" as unknown as number }, "strength"],
    [{ p: 1.5 }, "p must be a probability"],
    [{ p: "0.5" as unknown as number }, "p must be a probability"],
    [{ shift: [0.1, 1.1] }, "shift"],
    [{ shift: [0.1] as unknown as [number, number] }, "shift"],
    [{ span: [2, 1] }, "span"],
    [{ span: [0.1, 1] }, "span"],
    [{ span: [1, 5] }, "span"],
    [{ kernel: 4 }, "kernel must be an odd positive integer"],
    [{ kernel: 0 }, "kernel"],
    [{ kernel: 2.5 }, "kernel"],
    [{ steps: 3 as unknown as number[] }, "steps must be an array"],
  ];
  for (const [options, part] of bad) assertThrows(() => check(options), "toy: ", part);
  assertThrows(
    () => check({ colour: 1 } as never),
    'toy: unknown option "colour"',
    "known: strength",
  );
  // Inherited names are not options either.
  assertThrows(() => check({ toString: 1 } as never), 'unknown option "toString"');
});

Deno.test("presets: all three share the one check (names, strength in [0, 1], ranges)", () => {
  // Their own defaults, passed as options, are accepted.
  digitAugment({ ...DIGIT_AUGMENT_DEFAULTS });
  colourAugment({ ...COLOUR_AUGMENT_DEFAULTS });
  cropFlipAugment({ ...CROP_FLIP_DEFAULTS });
  const bad: [() => unknown, string, string][] = [
    [() => digitAugment({ strength: 1.5 }), "digitAugment", "strength"],
    [() => digitAugment({ rotationDeg: [10, -10] }), "digitAugment", "rotationDeg"],
    [() => digitAugment({ translate: [2, 0] }), "digitAugment", "translate"],
    [() => digitAugment({ scale: [0, 1] }), "digitAugment", "scale"],
    [() => digitAugment({ shearDeg: [-90, 0] }), "digitAugment", "shearDeg"],
    [() => digitAugment({ blurs: {} as never }), "digitAugment", "blurs"],
    [() => colourAugment({ colourStrength: 3 }), "colourAugment", "colourStrength"],
    [() => colourAugment({ flipP: 2 }), "colourAugment", "flipP"],
    [() => colourAugment({ cropScale: [0.5, 2] }), "colourAugment", "cropScale"],
    [() => colourAugment({ blurKernelSize: 4 }), "colourAugment", "blurKernelSize"],
    [() => colourAugment({ blurSigma: [0, 1] }), "colourAugment", "blurSigma"],
    [() => cropFlipAugment({ strength: -1 }), "cropFlipAugment", "strength"],
    [() => cropFlipAugment({ blurP: -0.1 }), "cropFlipAugment", "blurP"],
    [() => cropFlipAugment({ brightness: -1 }), "cropFlipAugment", "brightness"],
    [() => cropFlipAugment({ cropRatio: [2, 1] }), "cropFlipAugment", "cropRatio"],
    [() => cropFlipAugment({ flip: 1 } as never), "cropFlipAugment", 'unknown option "flip"'],
  ];
  for (const [f, where, field] of bad) assertThrows(f, `${where}: `, field);
  // A value out of range is caught even at strength 0, where it would otherwise be scaled away.
  assertThrows(() => cropFlipAugment({ strength: 0, flipP: 3 }), "flipP");
});

Deno.test("augmentPipeline and makeAugmenter: a choice gives its preset; none gives nothing", () => {
  assertEquals(augmentPipeline({ preset: "none" }), undefined);
  assertEquals(augmentPipeline({ preset: "digits" })!.name, "digitAugment(strength=1)");
  assertEquals(
    augmentPipeline({ preset: "digits", strength: 0.25 })!.name,
    digitAugment({ strength: 0.25 }).name,
  );
  assertEquals(augmentPipeline({ preset: "colour" })!.name, colourAugment().name);
  assertEquals(
    augmentPipeline({ preset: "crop-flip", strength: 0.5 })!.name,
    "cropFlipAugment(strength=0.5)",
  );
  assertThrows(
    () => augmentPipeline({ preset: "wild" } as never),
    'unknown augmentation preset "wild"',
  );
  assertThrows(() => augmentPipeline({ preset: "digits", strength: 2 }), "strength");
  // The view functions are the preset's pipeline run on the batch with the given shape.
  const images = new Float32Array(3 * 8 * 8 * 3).map((_, i) => (i % 11) / 11);
  const views = makeAugmenter({ preset: "colour" }, [8, 8, 3])!;
  const [v1, v2] = views.twoViews(images, 3, new Rng(1));
  assertEquals(v1.length, images.length);
  assert(v1.some((v, i) => v !== v2[i]), "the two views differ");
  assertEquals(views.oneView(images, 3, new Rng(2)), views.oneView(images, 3, new Rng(2)));
  assertEquals(makeAugmenter({ preset: "none" }, [8, 8, 3]), undefined);
});

Deno.test("mildAffine: identity at strength 0, mild changes at 1, mirrors only when asked", () => {
  const n = 6;
  const images = new Float32Array(n * 28 * 28).map((_, i) => ((i * 37) % 101) / 100);
  const batch = { data: images, count: n, height: 28, width: 28, channels: 1 };
  const at0 = mildAffine({ strength: 0 }).apply(batch, new Rng(1));
  assertEquals(Array.from(at0.data), Array.from(images), "strength 0 is the identity");
  const mild = mildAffine().apply(batch, new Rng(1)).data;
  let changed = 0;
  for (let i = 0; i < mild.length; i++) if (Math.abs(mild[i] - images[i]) > 1e-6) changed++;
  assert(changed > mild.length / 4, `most pixels move: ${changed}`);
  // A mirror-only pipeline: flip every image, no rotation, zoom or shift.
  const flip = mildAffine({ rotationDeg: [0, 0], scale: [1, 1], translate: [0, 0], flipP: 1 });
  const mirrored = flip.apply(batch, new Rng(2)).data;
  assertEquals(mirrored[0], images[27], "the first pixel of a row is its last");
  assertEquals(augmentPipeline({ preset: "affine" })!.name, "mildAffine(strength=1)");
  assertEquals(
    augmentPipeline({ preset: "affine-flip", strength: 0.5 })!.name,
    "mildAffine(strength=0.5)",
  );
  assertThrows(() => mildAffine({ flipP: 2 }), "mildAffine: flipP");
});
