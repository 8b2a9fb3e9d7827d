// The browser page of `deno task serve`: an exported encoder (and its classifier) in tfjs,
// in the page. It reads the model's card and files from /model/, an optional reference set from
// /reference.json + /reference.bin, and images the user drops or chooses; computes the features h
// of every image; shows the nearest neighbours of the chosen image; lets the user label images and
// classifies the rest by kNN on h (knn.js), with the accuracy where the true class is known.
//
// URL parameters: backend=cpu|webgl (default: webgl when it works, else cpu), k=N (neighbours
// of the vote), shots=N (label N images per class from the known labels at start: a demo, and
// what tests/e2e/browser_page_test.ts drives). `globalThis.sslPage` holds the state for that test.
import { centreCrop, knnClassify, nearest, toModelPixels, unitRows } from "./knn.js";

/* global tf */
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

const state = {
  ready: false,
  error: null,
  backend: null,
  card: null,
  classNames: [],
  /** Every image: { name, source, pixels, truth, given, pred, classifierPred, url } */
  items: [],
  dim: 0,
  /** h of every item, `dim` values each, and the same as unit rows (cosine). */
  features: new Float32Array(0),
  unit: new Float64Array(0),
  chosen: -1,
  k: Number(params.get("k") ?? 5),
  accuracy: null,
  classifierAccuracy: null,
  /** Plain data for a test: what the page shows. */
  snapshot() {
    return {
      backend: state.backend,
      dim: state.dim,
      k: state.k,
      classNames: state.classNames,
      accuracy: state.accuracy,
      classifierAccuracy: state.classifierAccuracy,
      items: state.items.map((it) => ({
        name: it.name,
        source: it.source,
        truth: it.truth,
        given: it.given,
        pred: it.pred,
        classifierPred: it.classifierPred,
      })),
      features: Array.from(state.features),
      neighbours: state.chosen < 0 ? [] : neighboursOf(state.chosen, 8).map((n) => n.index),
    };
  },
};
globalThis.sslPage = state;

let encoder = null;
let classifier = null;
let shape = [0, 0, 0];

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "status error" : "status";
}

async function setBackend(wanted) {
  for (const name of wanted ? [wanted] : ["webgl", "cpu"]) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch (_) {
      // try the next one
    }
  }
  throw new Error(`no tfjs backend among ${wanted ?? "webgl, cpu"}`);
}

/** A small PNG of an image's pixels (for the grid and the neighbour panel). */
function thumbnail(pixels) {
  const [h, w, c] = shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let p = 0; p < w * h; p++) {
    for (let j = 0; j < 3; j++) {
      img.data[4 * p + j] = Math.round(255 * pixels[c === 1 ? p : 3 * p + j]);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL("image/png");
}

/** h (and the classifier's classes) of `images`, `count` images of the model's shape. */
async function encode(images, count) {
  const [h, w, c] = shape;
  const size = h * w * c;
  const feats = [];
  const classes = [];
  for (let start = 0; start < count; start += 64) {
    const n = Math.min(64, count - start);
    const x = tf.tensor4d(images.subarray(start * size, (start + n) * size), [n, h, w, c]);
    const hT = encoder.predict(x);
    feats.push(await hT.data());
    if (classifier) {
      const logits = classifier.predict(hT);
      const top = logits.argMax(-1);
      classes.push(...await top.data());
      tf.dispose([logits, top]);
    }
    tf.dispose([x, hT]);
  }
  const dim = encoder.outputs[0].shape[1];
  const out = new Float32Array(count * dim);
  let at = 0;
  for (const f of feats) {
    out.set(f, at);
    at += f.length;
  }
  return { features: out, dim, classes };
}

/** Adds images (flat pixels) with their names and known classes; computes their h. */
async function addItems(pixels, names, truths, source) {
  const [h, w, c] = shape;
  const size = h * w * c;
  const { features, dim, classes } = await encode(pixels, names.length);
  state.dim = dim;
  const all = new Float32Array(state.features.length + features.length);
  all.set(state.features, 0);
  all.set(features, state.features.length);
  state.features = all;
  state.unit = unitRows(all, dim);
  const classifierApplies = classifier && sameClasses();
  names.forEach((name, i) => {
    const own = pixels.slice(i * size, (i + 1) * size);
    state.items.push({
      name,
      source,
      pixels: own,
      truth: truths[i],
      given: null,
      pred: null,
      classifierPred: classifierApplies ? classes[i] : null,
      url: thumbnail(own),
    });
  });
}

/** Whether the model's classes are the page's (then its classifier's answers mean something). */
function sameClasses() {
  return state.card.dataset.classNames.join("\n") === state.classNames.join("\n");
}

function neighboursOf(i, k) {
  return nearest(state.unit, i, state.unit, state.dim, k, new Set([i]));
}

/** kNN of every unlabelled image on the labelled ones; the accuracy where the truth is known. */
function classify() {
  const dim = state.dim;
  const labelled = state.items.map((it, i) => (it.given !== null ? i : -1)).filter((i) => i >= 0);
  const rest = state.items.map((it, i) => (it.given === null ? i : -1)).filter((i) => i >= 0);
  const rows = (idx) => {
    const out = new Float64Array(idx.length * dim);
    idx.forEach((i, r) => out.set(state.unit.subarray(i * dim, (i + 1) * dim), r * dim));
    return out;
  };
  const preds = knnClassify(
    rows(labelled),
    Int32Array.from(labelled, (i) => state.items[i].given),
    rows(rest),
    dim,
    state.k,
    state.classNames.length,
  );
  state.items.forEach((it) => (it.pred = it.given));
  rest.forEach((i, r) => (state.items[i].pred = preds[r] >= 0 ? preds[r] : null));
  const scored = rest.filter((i) => state.items[i].truth >= 0 && state.items[i].pred !== null);
  state.accuracy = scored.length && labelled.length
    ? scored.filter((i) => state.items[i].pred === state.items[i].truth).length / scored.length
    : null;
  const known = state.items.filter((it) => it.truth >= 0 && it.classifierPred !== null);
  state.classifierAccuracy = known.length
    ? known.filter((it) => it.classifierPred === it.truth).length / known.length
    : null;
}

const pct = (v) => `${(100 * v).toFixed(1)}%`;
const nameOf = (c) => (c === null || c < 0 ? "?" : state.classNames[c]);

function render() {
  classify();
  const labelled = state.items.filter((it) => it.given !== null).length;
  const scored = state.items.filter((it) => it.given === null && it.truth >= 0).length;
  $("score").textContent = labelled === 0
    ? "No image labelled yet: click one, then a class (or use “label N per class”)."
    : `${labelled} labelled; kNN (k = ${Math.min(state.k, labelled)}) on the other ${
      state.items.length - labelled
    } images` +
      (state.accuracy === null
        ? ""
        : `: ${pct(state.accuracy)} right on the ${scored} whose class is known`) +
      (state.classifierAccuracy === null
        ? ""
        : `. The exported classifier alone: ${pct(state.classifierAccuracy)}.`);
  const grid = $("grid");
  grid.textContent = "";
  state.items.forEach((it, i) => {
    const tile = document.createElement("div");
    const verdict = it.given !== null
      ? "given"
      : it.truth >= 0 && it.pred !== null
      ? (it.pred === it.truth ? "right" : "wrong")
      : "";
    tile.className = `tile ${verdict} ${it.source === "yours" ? "yours" : ""} ${
      i === state.chosen ? "chosen" : ""
    }`;
    tile.title = `${it.name}\ntrue: ${nameOf(it.truth)}\n` +
      (it.given !== null ? `labelled: ${nameOf(it.given)}` : `kNN: ${nameOf(it.pred)}`) +
      (it.classifierPred === null ? "" : `\nclassifier: ${nameOf(it.classifierPred)}`);
    const img = document.createElement("img");
    img.src = it.url;
    tile.append(
      img,
      document.createTextNode(it.given !== null ? `★ ${nameOf(it.given)}` : nameOf(it.pred)),
    );
    tile.onclick = () => choose(i);
    grid.append(tile);
  });
  renderClasses();
  renderChosen();
}

function renderClasses() {
  const box = $("classes");
  box.textContent = "";
  const chosen = state.items[state.chosen];
  state.classNames.forEach((name, c) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = name;
    b.className = chosen && chosen.given === c ? "on" : "";
    b.disabled = !chosen;
    b.onclick = () => {
      chosen.given = chosen.given === c ? null : c;
      render();
    };
    box.append(b);
  });
}

function renderChosen() {
  const box = $("selected");
  box.textContent = "";
  const it = state.items[state.chosen];
  if (!it) return;
  const q = document.createElement("div");
  q.className = "query";
  const img = document.createElement("img");
  img.src = it.url;
  q.append(img, document.createTextNode(`${it.name}`));
  q.append(
    document.createElement("br"),
    document.createTextNode(
      `kNN: ${nameOf(it.pred)}` +
        (it.classifierPred === null ? "" : ` · classifier: ${nameOf(it.classifierPred)}`),
    ),
  );
  const list = document.createElement("div");
  list.className = "neighbours";
  for (const { index, similarity } of neighboursOf(state.chosen, 8)) {
    const n = state.items[index];
    const cell = document.createElement("div");
    cell.className = "neighbour";
    const nimg = document.createElement("img");
    nimg.src = n.url;
    cell.append(
      nimg,
      document.createTextNode(`${nameOf(n.given ?? n.truth)} ${similarity.toFixed(3)}`),
    );
    list.append(cell);
  }
  box.append(q, list);
}

function choose(i) {
  state.chosen = i;
  render();
}

/** Labels the first `n` images of every class whose true class is known (in the grid's order). */
function labelPerClass(n) {
  const taken = new Map();
  for (const it of state.items) {
    if (it.truth < 0) continue;
    const have = taken.get(it.truth) ?? 0;
    if (have < n) {
      it.given = it.truth;
      taken.set(it.truth, have + 1);
    }
  }
  render();
}

/** Decodes image files to the model's size (centre crop, white under transparency). */
async function readFiles(files) {
  const [h, w, c] = shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const pixels = new Float32Array(files.length * h * w * c);
  const names = [];
  let n = 0;
  for (const file of files) {
    try {
      const bitmap = await createImageBitmap(file, {
        colorSpaceConversion: "none",
        premultiplyAlpha: "none",
      });
      const r = centreCrop(bitmap.width, bitmap.height, w, h);
      ctx.fillStyle = "white";
      ctx.fillRect(0, 0, w, h);
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, r.x, r.y, r.w, r.h, 0, 0, w, h);
      pixels.set(toModelPixels(ctx.getImageData(0, 0, w, h).data, w, h, c), n * h * w * c);
      names.push(file.name);
      n++;
    } catch (e) {
      status(`could not read ${file.name}: ${e.message ?? e}`, true);
    }
  }
  if (n === 0) return;
  const first = state.items.length;
  await addItems(pixels.subarray(0, n * h * w * c), names, names.map(() => -1), "yours");
  state.chosen = first;
  render();
  status(`${n} image${n === 1 ? "" : "s"} added; the first is shown with its nearest neighbours.`);
}

function wire() {
  $("files").onchange = (e) => readFiles([...e.target.files]);
  const drop = $("drop");
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add("over");
  };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    readFiles([...e.dataTransfer.files].filter((f) => f.type.startsWith("image/")));
  };
  $("k").value = String(state.k);
  $("k").onchange = () => {
    state.k = Math.max(1, Number($("k").value) || 1);
    render();
  };
  $("autoLabel").onclick = () => labelPerClass(Math.max(1, Number($("shots").value) || 1));
  $("clear").onclick = () => {
    for (const it of state.items) it.given = null;
    render();
  };
  $("addClass").onclick = () => {
    const name = $("newClass").value.trim();
    if (name && !state.classNames.includes(name)) {
      state.classNames.push(name);
      for (const it of state.items) it.classifierPred = null; // its classes no longer the page's
      $("newClass").value = "";
      render();
    }
  };
}

async function main() {
  state.backend = await setBackend(params.get("backend"));
  status(`tfjs ${tf.version.tfjs} on ${state.backend}: loading the model…`);
  const card = state.card = await (await fetch("/model/model_card.json")).json();
  shape = [card.input.height, card.input.width, card.input.channels];
  encoder = await tf.loadLayersModel("/model/encoder/model.json");
  if (card.classifier) classifier = await tf.loadLayersModel("/model/classifier/model.json");
  $("model").textContent = `${card.title} · input ${shape[0]}×${shape[1]}, ${
    shape[2] === 1 ? "grey" : "RGB"
  } · h of ${card.encoder.featureDim} numbers${card.classifier ? " · with its classifier" : ""}`;
  state.classNames = [...card.dataset.classNames];
  const ref = await fetch("/reference.json");
  if (ref.ok) {
    const index = await ref.json();
    if (index.height !== shape[0] || index.width !== shape[1] || index.channels !== shape[2]) {
      throw new Error(
        `the reference set is ${index.height}×${index.width}×${index.channels}, the model takes ${
          shape.join("×")
        }`,
      );
    }
    state.classNames = [...index.classNames];
    const bytes = new Uint8Array(await (await fetch("/reference.bin")).arrayBuffer());
    const pixels = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i] / 255;
    status(`computing h of ${index.count} reference images…`);
    await addItems(pixels, index.names, index.labels, "reference");
  }
  wire();
  const shots = Number(params.get("shots") ?? 0);
  if (shots > 0) labelPerClass(shots);
  else render();
  status(`ready: tfjs ${tf.version.tfjs} on ${state.backend}, ${state.items.length} images.`);
  state.ready = true;
}

main().catch((e) => {
  state.error = String(e?.message ?? e);
  status(`error: ${state.error}`, true);
  console.error(e);
});
