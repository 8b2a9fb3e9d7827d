/**
 * A notebook in nbformat JSON for the runner's tests: `#`-led sources become Markdown cells,
 * the rest code cells of the Deno kernel.
 *
 * @module
 */

/** An nbformat 4 notebook (Deno kernel) with one cell per source. */
export function notebook(...sources: string[]) {
  return {
    cells: sources.map((s, i) =>
      s.startsWith("#") ? { cell_type: "markdown", id: `c${i}`, metadata: {}, source: s } : {
        cell_type: "code",
        id: `c${i}`,
        metadata: {},
        outputs: [],
        execution_count: null,
        source: s,
      }
    ),
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}
