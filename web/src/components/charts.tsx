// Small hand-drawn SVG charts for the operator's dashboard: a few dozen points
// each, so plain SVG is all they need (no chart library in the bundle).

const W = 300;
const H = 64;

/**
 * A line over the values, oldest first, scaled to fill the box (the lowest
 * value at the bottom unless `zeroBased`). Stretches to its container's
 * width; the stroke keeps its thickness.
 */
export function Sparkline({
  values,
  zeroBased = false,
  max,
  label,
}: {
  values: number[];
  zeroBased?: boolean;
  /** A fixed top of the scale (1 for a rate), instead of the largest value. */
  max?: number;
  label: string;
}) {
  if (values.length === 0) return <div className="chart chart-empty" aria-label={label} />;
  // One sample is a level line across the box.
  const vs = values.length === 1 ? [values[0], values[0]] : values;
  const top = max ?? Math.max(...vs);
  const bottom = zeroBased || max !== undefined ? 0 : Math.min(...vs);
  const span = top - bottom || 1;
  const step = W / (vs.length - 1);
  const pts = vs.map((v, i) => `${(i * step).toFixed(1)},${(H - 4 - ((v - bottom) / span) * (H - 8)).toFixed(1)}`);
  const line = pts.join(' ');
  return (
    <svg className="chart sparkline" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <polygon points={`0,${H} ${line} ${W},${H}`} className="chart-area" />
      <polyline points={line} className="chart-line" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

/** Vertical bars, one per value, oldest first; each bar's title says its label and value. */
export function Bars({ bars, label }: { bars: { label: string; value: number }[]; label: string }) {
  if (bars.length === 0) return <div className="chart chart-empty" aria-label={label} />;
  const top = Math.max(1, ...bars.map((b) => b.value));
  const slot = W / bars.length;
  const gap = Math.min(2, slot * 0.2);
  return (
    <svg className="chart bars" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <line x1={0} y1={H - 0.5} x2={W} y2={H - 0.5} className="chart-axis" vectorEffect="non-scaling-stroke" />
      {bars.map((b, i) => {
        const h = (b.value / top) * (H - 4);
        return (
          <rect key={i} x={i * slot + gap / 2} y={H - h} width={slot - gap} height={h} className="chart-bar">
            <title>{`${b.label}: ${b.value}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

/** Horizontal bars with their labels and values, for a handful of named quantities. */
export function HorizontalBars({
  rows,
  label,
  testId,
}: {
  rows: { label: string; value: number }[];
  label: string;
  testId?: string;
}) {
  const top = Math.max(1, ...rows.map((r) => r.value));
  return (
    <ul className="hbars" aria-label={label} data-testid={testId}>
      {rows.map((r) => (
        <li key={r.label} data-label={r.label} data-value={r.value}>
          <span className="hbar-label">{r.label}</span>
          <span className="hbar-track">
            <span
              className={`hbar-fill${r.value > 0 ? ' busy' : ''}`}
              style={{ width: `${Math.max(r.value > 0 ? 2 : 0, (r.value / top) * 100)}%` }}
            />
          </span>
          <span className="hbar-value">{r.value}</span>
        </li>
      ))}
    </ul>
  );
}
