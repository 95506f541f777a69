-- The saga: payments, customer emails.
ALTER TABLE "orders" ADD COLUMN "customer_email" TEXT;
-- The product name at the time of ordering, for emails and receipts.
ALTER TABLE "order_items" ADD COLUMN "product_name" TEXT;

CREATE TYPE "payment_status" AS ENUM ('SUCCEEDED', 'FAILED', 'REFUNDED');

CREATE TABLE "payments" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "status" "payment_status" NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "currency_code" TEXT NOT NULL,
    "reason" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payments_pkey" PRIMARY KEY ("id")
);
-- One payment outcome per order, whatever is redelivered.
CREATE UNIQUE INDEX "payments_order_id_key" ON "payments"("order_id");
ALTER TABLE "payments" ADD CONSTRAINT "payments_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TYPE "notification_status" AS ENUM ('PENDING', 'SENT', 'FAILED', 'UNKNOWN');

CREATE TABLE "notifications" (
    "event_id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "status" "notification_status" NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notifications_pkey" PRIMARY KEY ("event_id")
);
CREATE INDEX "notifications_order_id_idx" ON "notifications"("order_id");
