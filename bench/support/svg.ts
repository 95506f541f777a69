/**
 * A small SVG chart generator for the bench report (no dependencies): line
 * charts with axes, ticks, a legend and optional horizontal reference
 * lines, and horizontal bar charts.
 */

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** "Nice" tick values covering [min, max]. */
export function ticks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const span = max - min;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

const fmt = (v: number) =>
  Math.abs(v) >= 10_000
    ? `${Math.round(v / 1000)}k`
    : Math.abs(v) >= 100 || Number.isInteger(v)
      ? String(Math.round(v))
      : String(Math.round(v * 10) / 10);

export interface Series {
  name: string;
  points: { x: number; y: number | null }[];
  color?: string;
  /** Draw markers at the points (sparse series). */
  markers?: boolean;
  dashed?: boolean;
}

export function lineChart({
  title,
  xLabel,
  yLabel,
  series,
  width = 720,
  height = 320,
  yMin,
  yMax,
  logY = false,
  refLines = [],
}: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  yMin?: number;
  yMax?: number;
  /** Logarithmic y axis (latencies spanning decades). */
  logY?: boolean;
  refLines?: { y: number; label: string; color?: string }[];
}): string {
  const m = { top: 36, right: 16, bottom: 44, left: 64 };
  const longest = Math.max(8, ...series.map((s) => s.name.length));
  const perRow = Math.max(1, Math.min(4, Math.floor((width - 80) / (longest * 7 + 34))));
  const legendH = 18 * Math.ceil(series.length / perRow);
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom - legendH;
  const all = series.flatMap((s) => s.points).filter((p) => p.y !== null && Number.isFinite(p.y)) as {
    x: number;
    y: number;
  }[];
  const xs = all.map((p) => p.x);
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const ysPos = all.map((p) => p.y).concat(refLines.map((r) => r.y));
  let y0 = yMin ?? (logY ? Math.max(0.1, Math.min(...ysPos.filter((y) => y > 0), 1)) : 0);
  let y1 = yMax ?? (ysPos.length ? Math.max(...ysPos) * 1.08 : 1);
  if (!(y1 > y0)) y1 = y0 + 1;
  if (logY) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  }
  const sx = (x: number) => m.left + (x1 > x0 ? ((x - x0) / (x1 - x0)) * w : w / 2);
  const sy = (y: number) => {
    const v = logY
      ? (Math.log10(Math.max(y, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))
      : (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0);
    return m.top + h - v * h;
  };
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  const yt = logY
    ? Array.from({ length: Math.round(Math.log10(y1) - Math.log10(y0)) + 1 }, (_, i) => y0 * 10 ** i)
    : ticks(y0, y1);
  for (const t of yt) {
    const y = sy(t);
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end" fill="#444">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 8)) {
    const x = sx(t);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top + h}" y2="${m.top + h + 4}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${m.top + h + 16}" text-anchor="middle" fill="#444">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#444"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#444"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${m.top + h + 34}" text-anchor="middle" fill="#222">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(yLabel)}</text>`,
  );
  for (const r of refLines) {
    const y = sy(r.y);
    out.push(
      `<line x1="${m.left}" x2="${m.left + w}" y1="${y}" y2="${y}" stroke="${r.color ?? '#999'}" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${m.left + w - 4}" y="${y - 4}" text-anchor="end" fill="${r.color ?? '#666'}">${esc(r.label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const segments: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) {
        if (segments[segments.length - 1].length) segments.push([]);
        continue;
      }
      segments[segments.length - 1].push(`${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    }
    for (const seg of segments)
      if (seg.length > 1)
        out.push(
          `<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${seg.join(' ')}"/>`,
        );
    if (s.markers || s.points.length < 3)
      for (const p of s.points)
        if (p.y !== null && Number.isFinite(p.y))
          out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
  });
  series.forEach((s, i) => {
    const lx = m.left + (i % perRow) * (w / perRow);
    const ly = height - legendH + 4 + Math.floor(i / perRow) * 18;
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="4" fill="${s.color ?? COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 6}" fill="#222">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

export function barChart({
  title,
  unit,
  bars,
  width = 720,
}: {
  title: string;
  unit: string;
  bars: { label: string; value: number | null; color?: string; note?: string }[];
  width?: number;
}): string {
  const rowH = 24;
  const m = { top: 36, right: 110, bottom: 12, left: 180 };
  const height = m.top + m.bottom + rowH * bars.length;
  const w = width - m.left - m.right;
  const max = Math.max(1e-9, ...bars.map((b) => b.value ?? 0));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  bars.forEach((b, i) => {
    const y = m.top + i * rowH;
    const bw = b.value === null ? 0 : (b.value / max) * w;
    out.push(`<text x="${m.left - 8}" y="${y + 16}" text-anchor="end" fill="#222">${esc(b.label)}</text>`);
    out.push(
      `<rect x="${m.left}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="${b.color ?? COLORS[i % COLORS.length]}"/>`,
    );
    out.push(
      `<text x="${m.left + bw + 6}" y="${y + 16}" fill="#222">${b.value === null ? 'n/a' : `${fmt(b.value)} ${esc(unit)}`}${b.note ? ` ${esc(b.note)}` : ''}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
