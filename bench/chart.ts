/**
 * The bench table as a picture: an SVG bar chart with one group of bars
 * per scenario, each bar a runner's result as a ratio to the scenario's
 * reference (the bare socket where there is one, else pylibmc), so that
 * 1.0 is what the hardware and runtime allow. Pure: text in, text out.
 *
 * @module
 */

/** One bar: who ran, and its ratio to the reference (missing: not run). */
export interface Bar {
  label: string;
  ratio: number | undefined;
}

/** One scenario's bars, and what they are ratios to. */
export interface Group {
  title: string;
  reference: string;
  bars: Bar[];
}

const COLORS = [
  "#2563eb",
  "#60a5fa",
  "#f59e0b",
  "#10b981",
  "#9ca3af",
  "#a78bfa",
  "#f472b6",
  "#be185d",
];

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The chart, `caption` (machine and versions) under it. */
export function barChart(groups: Group[], caption: string): string {
  const labels = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const bar = 16;
  const left = 170;
  const width = 900;
  const plot = width - left - 70;
  const max = Math.max(1.2, ...groups.flatMap((g) => g.bars.map((b) => b.ratio ?? 0)));
  const scale = (ratio: number) => (ratio / max) * plot;
  const parts: string[] = [];
  const ones: string[] = [];
  let y = 8;
  for (const group of groups) {
    parts.push(
      `<text x="8" y="${y + 12}" font-weight="bold">${escape(group.title)}</text>`,
      `<text x="8" y="${y + 27}" fill="#555">as a ratio to ${escape(group.reference)}</text>`,
    );
    const top = y + 36;
    group.bars.forEach((b, i) => {
      const at = top + i * (bar + 3);
      const color = COLORS[labels.indexOf(b.label) % COLORS.length];
      parts.push(`<text x="8" y="${at + 12}">${escape(b.label)}</text>`);
      if (b.ratio === undefined) {
        parts.push(`<text x="${left + 4}" y="${at + 12}" fill="#888">not run</text>`);
        return;
      }
      const w = scale(b.ratio);
      parts.push(
        `<rect x="${left}" y="${at}" width="${w.toFixed(1)}" height="${bar}" fill="${color}"/>`,
        `<text x="${left + w + 4}" y="${at + 12}">${b.ratio.toFixed(2)}×</text>`,
      );
    });
    const bottom = top + group.bars.length * (bar + 3);
    const one = left + scale(1);
    ones.push(
      `<line x1="${one}" y1="${
        top - 4
      }" x2="${one}" y2="${bottom}" stroke="#111" stroke-dasharray="4 3"/>`,
    );
    y = bottom + 18;
  }
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    ...ones,
    `<text x="8" y="${height - 8}" fill="#555" font-size="11">${escape(caption)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
