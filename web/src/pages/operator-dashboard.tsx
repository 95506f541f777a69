import { useQuery } from '@apollo/client/react';
import { useEffect, useState, type ReactNode } from 'react';
import { BUSINESS_METRICS } from '../graphql/operator.ts';
import type { BusinessMetricsQuery } from '../gql/graphql.ts';
import { Bars, HorizontalBars, Sparkline } from '../components/charts.tsx';
import { ErrorBanner } from '../components/ui.tsx';
import { formatMoney, toCents } from '../lib/format.ts';

/** How often the figures are asked for again. */
const POLL_MS = 4_000;
/** The windows the switch offers, in minutes. */
const WINDOWS = [5, 60] as const;
/** Samples of the single-number figures kept for their sparklines (this page's own history). */
const MAX_SAMPLES = 90;

type Metrics = BusinessMetricsQuery['businessMetrics'];

interface Sample {
  successRate: number | null;
  averageOrderCents: number | null;
  p95Ms: number | null;
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

const minuteLabel = (iso: string) =>
  new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

function Figure({
  title,
  value,
  note,
  testId,
  data,
  wide = false,
  children,
}: {
  wide?: boolean;
  title: string;
  value: ReactNode;
  note?: ReactNode;
  testId: string;
  data?: Record<string, string | number>;
  children: ReactNode;
}) {
  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]));
  return (
    <div className={wide ? 'figure wide' : 'figure'} data-testid={testId} {...attrs}>
      <div className="figure-title">{title}</div>
      <div className="figure-value">{value}</div>
      {children}
      {note && <div className="figure-note muted small">{note}</div>}
    </div>
  );
}

/** One point per minute of the window, oldest first; the last is the minute under way. */
function OrdersPerMinute({ metrics }: { metrics: Metrics }) {
  const points = [...metrics.ordersPerMinute].sort((a, b) => a.at.localeCompare(b.at));
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const latest = points.length ? points[points.length - 1].value : 0;
  const average = total / Math.max(1, metrics.windowMinutes);
  return (
    <Figure
      title="Orders per minute"
      value={
        <>
          <span data-testid="orders-this-minute">{latest}</span>
          <span className="muted small"> this minute</span>
        </>
      }
      note={`${total} placed in the last ${metrics.windowMinutes} min · ${average.toFixed(average < 1 ? 2 : average < 10 ? 1 : 0)} per minute on average`}
      testId="metric-orders-per-minute"
      data={{ total, latest }}
    >
      <Bars
        label={`Orders per minute over the last ${metrics.windowMinutes} minutes`}
        bars={points.map((p) => ({ label: minuteLabel(p.at), value: p.value }))}
      />
    </Figure>
  );
}

/** Consumers shown by name: the busiest; the others are counted. */
const MAX_BACKLOG_ROWS = 6;

/** Only consumers with messages waiting get a bar: a caught-up consumer is the normal case. */
function Backlog({ backlog }: { backlog: Metrics['backlog'] }) {
  const total = backlog.reduce((sum, b) => sum + b.pending, 0);
  const waiting = backlog.filter((b) => b.pending > 0).sort((a, b) => b.pending - a.pending);
  const shown = waiting.slice(0, MAX_BACKLOG_ROWS);
  return (
    <Figure
      title="Backlog per consumer"
      value={
        <>
          <span data-testid="backlog-total">{total}</span>
          <span className="muted small"> waiting</span>
        </>
      }
      testId="metric-backlog"
      data={{ total }}
      note={
        backlog.length === 0
          ? 'No consumer reported.'
          : waiting.length === 0
            ? `All ${backlog.length} consumers caught up.`
            : `${backlog.length - waiting.length} of ${backlog.length} consumers caught up` +
              (waiting.length > shown.length ? `; ${waiting.length - shown.length} more waiting, not shown.` : '.')
      }
      wide
    >
      {shown.length > 0 && (
        <HorizontalBars
          label="Messages waiting per consumer"
          rows={shown.map((b) => ({ label: b.consumer, value: b.pending }))}
        />
      )}
    </Figure>
  );
}

export function Dashboard() {
  const [windowMinutes, setWindowMinutes] = useState<number>(WINDOWS[0]);
  const { data, previousData, error } = useQuery(BUSINESS_METRICS, {
    variables: { windowMinutes },
    pollInterval: POLL_MS,
    // A tab in the background asks nothing; it catches up when shown again.
    skipPollAttempt: () => document.hidden,
    fetchPolicy: 'network-only',
    notifyOnNetworkStatusChange: false,
  });
  // While the other window loads, the figures of the one before stay, dimmed.
  const metrics = data?.businessMetrics ?? previousData?.businessMetrics ?? null;
  const stale = !!metrics && metrics.windowMinutes !== windowMinutes;

  // The single-number figures come one value per poll: this page keeps their recent values to draw them.
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => setSamples([]), [windowMinutes]);
  const current = data?.businessMetrics;
  useEffect(() => {
    if (!current || current.windowMinutes !== windowMinutes) return;
    setSamples((s) =>
      [
        ...s,
        {
          successRate: current.successRate,
          averageOrderCents: current.averageOrderValue ? toCents(current.averageOrderValue.amount) : null,
          p95Ms: current.p95ToPendingShipmentMs,
        },
      ].slice(-MAX_SAMPLES),
    );
  }, [current, windowMinutes]);
  const series = (pick: (s: Sample) => number | null) =>
    samples.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));

  return (
    <div className="card" data-testid="dashboard" data-window={windowMinutes}>
      <div className="card-head">
        <h2>How the shop is doing</h2>
        <div className="segmented" role="group" aria-label="Window">
          {WINDOWS.map((w) => (
            <button
              key={w}
              type="button"
              aria-pressed={w === windowMinutes}
              className={w === windowMinutes ? 'active' : undefined}
              onClick={() => setWindowMinutes(w)}
              data-testid={`window-${w}`}
            >
              {w} min
            </button>
          ))}
        </div>
      </div>
      <ErrorBanner error={error && !metrics ? error : undefined} />
      {error && metrics && <p className="warn">Could not refresh the figures: showing the last ones.</p>}
      {!metrics && !error && <p className="muted">Loading the figures…</p>}
      {metrics && (
        <div className={`figures${stale ? ' stale' : ''}`}>
          <OrdersPerMinute metrics={metrics} />
          <Figure
            title="Saga success rate"
            value={metrics.successRate === null ? '—' : `${(metrics.successRate * 100).toFixed(1)} %`}
            note={
              metrics.successRate === null
                ? 'No order finished its saga in this window'
                : 'Paid and handed to shipping, of the orders that finished'
            }
            testId="metric-success-rate"
            data={{ value: metrics.successRate ?? '' }}
          >
            <Sparkline label="Success rate, recent samples" values={series((s) => s.successRate)} max={1} />
          </Figure>
          <Figure
            title="Average order value"
            value={metrics.averageOrderValue ? formatMoney(metrics.averageOrderValue) : '—'}
            note={metrics.averageOrderValue ? undefined : 'No order in this window'}
            testId="metric-average-order-value"
            data={{ value: metrics.averageOrderValue?.amount ?? '' }}
          >
            <Sparkline
              label="Average order value, recent samples"
              values={series((s) => s.averageOrderCents)}
              zeroBased
            />
          </Figure>
          <Figure
            title="p95 order → pending shipment"
            value={metrics.p95ToPendingShipmentMs === null ? '—' : formatDuration(metrics.p95ToPendingShipmentMs)}
            note={
              metrics.p95ToPendingShipmentMs === null ? 'No order reached pending shipment in this window' : undefined
            }
            testId="metric-p95"
            data={{ value: metrics.p95ToPendingShipmentMs ?? '' }}
          >
            <Sparkline label="p95 time to pending shipment, recent samples" values={series((s) => s.p95Ms)} zeroBased />
          </Figure>
          <Backlog backlog={metrics.backlog} />
        </div>
      )}
      <p className="muted small">
        Over the last {windowMinutes} minutes, refreshed every {POLL_MS / 1000} s. The small lines show this page&apos;s
        recent samples.
      </p>
    </div>
  );
}
