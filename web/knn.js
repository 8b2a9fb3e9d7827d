// The page's arithmetic, in plain JavaScript (the page loads no bundler output): cosine
// similarities of features, the k nearest neighbours, the kNN vote, and images as the encoder
// takes them. The vote follows lib/eval/knn.ts exactly (one vote per neighbour; a tie goes to
// the class with the larger sum of similarities, then the lower class index; neighbours of equal
// similarity in index order), and tests/e2e/browser_page_test.ts checks the page's answers
// against that module's. Runs in the browser and in Deno alike.

/** Rows of `dim` values scaled to unit length (a zero row stays zero), as float64. */
export function unitRows(features, dim) {
  const n = features.length / dim;
  const out = new Float64Array(features.length);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += features[r * dim + j] ** 2;
    const norm = Math.sqrt(s) || 1;
    for (let j = 0; j < dim; j++) out[r * dim + j] = features[r * dim + j] / norm;
  }
  return out;
}

/** Cosine similarity of unit row `a` of `A` and unit row `b` of `B`. */
function dot(A, a, B, b, dim) {
  let s = 0;
  for (let j = 0; j < dim; j++) s += A[a * dim + j] * B[b * dim + j];
  return s;
}

/**
 * The `k` rows of `pool` (unit rows) most similar to unit row `q` of `queries`, nearest first
 * (ties: the lower index), leaving out the indices in `skip`: [{ index, similarity }].
 */
export function nearest(queries, q, pool, dim, k, skip = new Set()) {
  const n = pool.length / dim;
  const all = [];
  for (let i = 0; i < n; i++) {
    if (!skip.has(i)) all.push({ index: i, similarity: dot(queries, q, pool, i, dim) });
  }
  all.sort((x, y) => y.similarity - x.similarity || x.index - y.index);
  return all.slice(0, k);
}

/**
 * kNN classes of every row of `test` (unit rows) from the labelled unit rows of `train`:
 * `k` neighbours (at most the number of labelled rows), one vote each.
 */
export function knnClassify(train, trainLabels, test, dim, k, numClasses) {
  const nTest = test.length / dim;
  const kk = Math.min(k, trainLabels.length);
  const out = new Int32Array(nTest).fill(-1);
  if (kk < 1) return out;
  for (let r = 0; r < nTest; r++) {
    const votes = new Float64Array(numClasses);
    const sums = new Float64Array(numClasses);
    for (const { index, similarity } of nearest(test, r, train, dim, kk)) {
      votes[trainLabels[index]] += 1;
      sums[trainLabels[index]] += similarity;
    }
    let best = -1;
    for (let c = 0; c < numClasses; c++) {
      if (votes[c] === 0) continue;
      if (
        best < 0 || votes[c] > votes[best] || (votes[c] === votes[best] && sums[c] > sums[best])
      ) {
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * RGBA bytes (a canvas's `getImageData`) as the encoder's input: values in [0, 1], channels
 * last, grey as the image folders make it (round(0.299 R + 0.587 G + 0.114 B), then / 255).
 */
export function toModelPixels(rgba, width, height, channels) {
  const out = new Float32Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
    if (channels === 1) out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[3 * p] = r / 255;
      out[3 * p + 1] = g / 255;
      out[3 * p + 2] = b / 255;
    }
  }
  return out;
}

/** The centred part of a `sw × sh` image with the aspect ratio of `dw × dh` (fit "crop"). */
export function centreCrop(sw, sh, dw, dh) {
  const scale = Math.min(sw / dw, sh / dh);
  const w = dw * scale, h = dh * scale;
  return { x: (sw - w) / 2, y: (sh - h) / 2, w, h };
}
