import { CombinedGraphQLErrors, ServerError } from '@apollo/client';
import type { ReactNode } from 'react';
import type { OrderStatus, ShipmentStatus } from '../gql/graphql.ts';
import type { LiveStatus } from '../lib/live-subscription.ts';

const STATUS_LABELS: Record<OrderStatus | ShipmentStatus, string> = {
  PENDING_PAYMENT: 'Pending payment',
  PENDING_SHIPMENT: 'Pending shipment',
  PROCESSING: 'Processing',
  SHIPPED: 'Shipped',
  IN_TRANSIT: 'In transit',
  DELIVERED: 'Delivered',
  CANCELLED: 'Cancelled',
  PAYMENT_FAILED: 'Payment failed',
};

export const statusLabel = (status: OrderStatus | ShipmentStatus) => STATUS_LABELS[status] ?? status;

/** The status as a coloured badge; `data-status` carries the raw enum value. */
export function StatusBadge({ status, testId }: { status: OrderStatus | ShipmentStatus; testId?: string }) {
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-status={status} data-testid={testId} title={status}>
      {statusLabel(status)}
    </span>
  );
}

const LIVE_LABELS: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
};

export function LiveIndicator({ status }: { status: LiveStatus }) {
  return (
    <span className={`live live-${status}`} data-testid="live-indicator" data-live={status}>
      <span className="live-dot" aria-hidden />
      {LIVE_LABELS[status]}
    </span>
  );
}

/** A readable sentence for whatever an Apollo call failed with. */
export function errorMessage(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    const codes = error.errors.map((e) => e.extensions?.code);
    if (codes.includes('UNAUTHENTICATED')) return 'Please sign in (again) to continue.';
    if (codes.includes('FORBIDDEN')) return 'You are not allowed to do this.';
    if (codes.includes('RATE_LIMITED')) return 'Too many requests: please wait a moment and retry.';
    return error.errors.map((e) => e.message).join(' · ');
  }
  if (ServerError.is(error)) return `The server answered HTTP ${error.statusCode}; please retry.`;
  if (error instanceof TypeError) return 'Cannot reach the server: check your connection and retry.';
  return error instanceof Error ? error.message : String(error);
}

export function ErrorBanner({ error, children }: { error?: unknown; children?: ReactNode }) {
  if (!error && !children) return null;
  return (
    <div className="banner banner-error" role="alert">
      {children ?? errorMessage(error)}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}
