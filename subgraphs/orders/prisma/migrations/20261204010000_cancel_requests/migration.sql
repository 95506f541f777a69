-- A customer's cancel of a paid order is a request the shipments service
-- arbitrates against a dispatch (orders.cancel_requested → shipments.cancelled
-- or shipments.cancel_refused); see docs/decisions/003-cancel-by-event.md.
-- One row per request, its id that of the orders.cancel_requested event; at
-- most one request of an order waits for its verdict at a time.
CREATE TABLE "cancel_requests" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- null while the request waits; CANCELLED or REFUSED once shipments has answered
    "verdict" TEXT,
    -- a refusal's shipment status (SHIPPED or later)
    "shipment_status" TEXT,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "cancel_requests_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cancel_requests_verdict_check" CHECK ("verdict" IN ('CANCELLED', 'REFUSED'))
);

CREATE UNIQUE INDEX "cancel_requests_pending_key" ON "cancel_requests"("order_id") WHERE "verdict" IS NULL;
CREATE INDEX "cancel_requests_order_id_idx" ON "cancel_requests"("order_id");

ALTER TABLE "cancel_requests" ADD CONSTRAINT "cancel_requests_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
