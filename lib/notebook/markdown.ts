/**
 * A small Markdown-to-HTML renderer for the notebooks' `showMarkdown` outputs, so that every
 * Markdown output also carries `text/html`: front ends show sanitised HTML in a notebook they
 * do not trust, but drop `text/markdown` there (the classic Notebook falls back to the raw
 * text, `**` and all).
 *
 * It covers what the notebooks write: paragraphs, ATX headings (`#` … `######`), bullet and
 * numbered lists (one level), pipe tables with an alignment row, fenced code blocks,
 * horizontal rules, and inline code spans, `**strong**`, `*emphasis*` / `_emphasis_` (not
 * inside words, so `ssl_new_head` stays as it is), `[links](url)` and hard line breaks (two
 * trailing spaces). Everything else is text, and all text is HTML-escaped: the output never
 * holds markup the input did not ask for. Link targets other than http(s), mailto and
 * relative ones are dropped (the text stays).
 *
 * @example
 * ```ts
 * import { markdownToHtml } from "./markdown.ts";
 * const html = markdownToHtml("dataset **mnist** · seed `0`\n\n- one\n- two");
 * if (html !== '<p>dataset <strong>mnist</strong> · seed <code>0</code></p>\n' +
 *   "<ul><li>one</li><li>two</li></ul>") throw new Error(html);
 * ```
 *
 * @module
 */
import { escapeHtml } from "../html.ts";

const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|(\s*:?-{1,}:?\s*\|)+\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s{0,3}(```|~~~)\s*([\w+-]*)\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

/** Renders Markdown (the subset in the module documentation) as HTML; all text is escaped. */
export function markdownToHtml(md: string): string {
  const lines = md.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
      continue;
    }
    const fence = line.match(FENCE);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      const lang = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : "";
      out.push(`<pre><code${lang}>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inlineHtml(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push("<hr>");
      i++;
      continue;
    }
    if (TABLE_ROW.test(line) && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      const rows: string[] = [];
      while (i < lines.length && TABLE_ROW.test(lines[i])) rows.push(lines[i++]);
      out.push(tableHtml(rows));
      continue;
    }
    if (BULLET.test(line) || NUMBERED.test(line)) {
      const numbered = !BULLET.test(line);
      const pattern = numbered ? NUMBERED : BULLET;
      const items: string[] = [];
      const start = numbered ? Number(line.match(NUMBERED)![1]) : 1;
      while (i < lines.length && pattern.test(lines[i])) {
        const m = lines[i].match(pattern)!;
        let text = numbered ? m[2] : m[1];
        i++;
        // Indented lines continue the item.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !pattern.test(lines[i])) {
          text += "\n" + lines[i++].trim();
        }
        items.push(`<li>${inlineHtml(text)}</li>`);
      }
      const tag = numbered ? "ol" : "ul";
      const attr = numbered && start !== 1 ? ` start="${start}"` : "";
      out.push(`<${tag}${attr}>${items.join("")}</${tag}>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i].trim() !== "" && !startsBlock(lines, i)) {
      para.push(lines[i++]);
    }
    if (para.length === 0) para.push(lines[i++]); // a line no block rule took
    out.push(`<p>${inlineHtml(para.join("\n"))}</p>`);
  }
  return out.join("\n");
}

function startsBlock(lines: string[], i: number): boolean {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || BULLET.test(line) ||
    NUMBERED.test(line) ||
    (TABLE_ROW.test(line) && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]));
}

/** Splits a pipe-table row into its cells (outer pipes dropped, `\|` kept as a pipe). */
export function tableCellsOf(row: string): string[] {
  const inner = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  const cells: string[] = [];
  let cell = "";
  for (let k = 0; k < inner.length; k++) {
    if (inner[k] === "\\" && inner[k + 1] === "|") {
      cell += "|";
      k++;
    } else if (inner[k] === "|") {
      cells.push(cell.trim());
      cell = "";
    } else cell += inner[k];
  }
  cells.push(cell.trim());
  return cells;
}

function tableHtml(rows: string[]): string {
  const header = tableCellsOf(rows[0]);
  const align = tableCellsOf(rows[1]).map((c) =>
    c.startsWith(":") && c.endsWith(":")
      ? "center"
      : c.endsWith(":")
      ? "right"
      : c.startsWith(":")
      ? "left"
      : ""
  );
  const cell = (tag: string, text: string, j: number) =>
    `<${tag}${align[j] ? ` style="text-align:${align[j]}"` : ""}>${inlineHtml(text)}</${tag}>`;
  const body = rows.slice(2).map((r) => {
    const cells = tableCellsOf(r);
    return `<tr>${header.map((_, j) => cell("td", cells[j] ?? "", j)).join("")}</tr>`;
  });
  return `<table><thead><tr>${header.map((h, j) => cell("th", h, j)).join("")}</tr></thead>` +
    `<tbody>${body.join("")}</tbody></table>`;
}

function safeHref(url: string): string | undefined {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u)) return u;
  if (/^[a-z][a-z0-9+.-]*:/i.test(u)) return undefined; // javascript:, data:, …
  return u;
}

/**
 * Renders inline Markdown (code spans, strong, emphasis, links, hard breaks) as HTML. Code
 * spans are cut out first, so their content is never read as markup.
 */
export function inlineHtml(text: string): string {
  const codes: string[] = [];
  const held = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code: string) => {
    codes.push(
      `<code>${escapeHtml(code.trim() === "" ? code : code.replace(/^ (.*) $/, "$1"))}</code>`,
    );
    return `\u0000${codes.length - 1}\u0000`;
  });
  let html = escapeHtml(held);
  html = html.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_whole, label: string, url: string) => {
    const href = safeHref(url.replace(/&amp;/g, "&"));
    return href === undefined ? label : `<a href="${escapeHtml(href)}">${label}</a>`;
  });
  html = html
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w*])__(?=\S)([\s\S]*?\S)__(?![\w])/g, "$1<strong>$2</strong>")
    .replace(/(^|[^\w*])\*(?=[^\s*])([\s\S]*?[^\s*])\*(?![\w*])/g, "$1<em>$2</em>")
    .replace(/(^|[^\w*])\*(?=[^\s*])([^*\s])\*(?![\w*])/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?=\S)([\s\S]*?\S)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/ {2,}\n/g, "<br>\n");
  // deno-lint-ignore no-control-regex
  return html.replace(/\u0000(\d+)\u0000/g, (_, k: string) => codes[Number(k)]);
}
