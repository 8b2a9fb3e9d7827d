import {
  ARTICLE_HEAD,
  headConfigFor,
  headOutputWidth,
  headSettingText,
  parseHeadSetting,
} from "../../lib/models/heads/head_setting.ts";
import { projectionHead } from "../../lib/models/heads/projection_heads.ts";
import { headBlockLayers } from "../../lib/models/heads/block_head.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("head settings: the text form parses to the head it names, and back", () => {
  assertEquals(parseHeadSetting("none"), { kind: "none" });
  assertEquals(parseHeadSetting("linear"), { kind: "linear" });
  assertEquals(parseHeadSetting("linear:16"), { kind: "linear", outputDim: 16 });
  assertEquals(parseHeadSetting("mlp:32,16"), { kind: "mlp", hidden: [32], outputDim: 16 });
  assertEquals(parseHeadSetting("MLP:64, 64, 128"), {
    kind: "mlp",
    hidden: [64, 64],
    outputDim: 128,
  });
  assertEquals(parseHeadSetting("mlp:64"), { kind: "mlp", hidden: [64] });
  assertEquals(parseHeadSetting("article"), { kind: "mlp", hidden: [32, 16] });
  assertEquals(parseHeadSetting("mlp:32,16,classes"), parseHeadSetting("article"));
  for (
    const text of ["none", "linear", "linear:8", "mlp:32,16", "mlp:64,classes", "mlp:32,16,classes"]
  ) {
    assertEquals(headSettingText(parseHeadSetting(text)), text);
    assertEquals(parseHeadSetting(headSettingText(parseHeadSetting(text))), parseHeadSetting(text));
  }
});

Deno.test("head settings: bad text is a RangeError that quotes it and lists the forms", () => {
  for (
    const bad of ["mlp", "mlp:0", "mlp:32,x", "conv:3", "linear:8,4", "mlp:,16", "mlp:classes"]
  ) {
    assertThrows(() => parseHeadSetting(bad), `head "${bad}"`);
  }
  try {
    parseHeadSetting("mlp:-2");
  } catch (e) {
    assertEquals(e instanceof RangeError, true);
    assertEquals((e as Error).message.includes("mlp:W1,...,D"), true);
  }
});

Deno.test("head settings: output width and the built head follow the setting", () => {
  assertEquals(headOutputWidth(ARTICLE_HEAD, 32, 10), 10);
  assertEquals(headOutputWidth({ kind: "none" }, 32, 10), 32);
  assertEquals(headOutputWidth({ kind: "linear", outputDim: 16 }, 32, 10), 16);
  const g = projectionHead(headConfigFor(parseHeadSetting("mlp:64,8"), 32, 10, 0));
  assertEquals(g.outputs[0].shape, [null, 8]);
  assertEquals(g.layers.map((l) => (l.getConfig() as { units?: number }).units), [64, 8]);
  g.dispose();
});

Deno.test("head settings: mlp-bn is SimCLR's head, batch norm after every hidden layer", () => {
  const setting = parseHeadSetting("mlp-bn:128,64");
  assertEquals(setting, { kind: "mlp", hidden: [128], outputDim: 64, batchNorm: true });
  assertEquals(headSettingText(setting), "mlp-bn:128,64");
  assertEquals(headSettingText(parseHeadSetting("mlp-bn:64")), "mlp-bn:64,classes");
  const g = projectionHead(headConfigFor(setting, 32, 10, 0));
  const layers = g.layers.map((l) => l.getClassName());
  const dense = g.layers[0].getConfig() as { useBias?: boolean };
  g.dispose();
  assertEquals(layers, ["Dense", "SslBatchNorm", "Activation", "Dense"]);
  assertEquals(dense.useBias, false);
});

Deno.test("head settings: a classifier with dropout, and the blocks of a head", () => {
  const g = projectionHead(headConfigFor({ kind: "linear", dropout: 0.3 }, 32, 10, 0));
  assertEquals(g.layers.map((l) => l.getClassName()), ["SslDropout", "Dense"]);
  assertEquals(headBlockLayers(g).map((b) => b.length), [2]);
  g.dispose();
  const h = projectionHead(headConfigFor(parseHeadSetting("mlp-bn:16,8,4"), 32, 10, 0));
  assertEquals(
    headBlockLayers(h).map((b) => b.map((l) => l.getClassName()).join("+")),
    ["Dense+SslBatchNorm+Activation", "Dense+SslBatchNorm+Activation", "Dense"],
  );
  h.dispose();
  assertThrows(() => projectionHead(headConfigFor({ kind: "linear", dropout: 1 }, 32, 10, 0)));
});
