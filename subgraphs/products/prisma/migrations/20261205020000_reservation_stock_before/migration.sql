-- The product's available stock and low-stock threshold as the reservation found them under its lock: the
-- reservation's low-stock alert (domain/inventory.ts lowStockCrossings) is decided from them, and decided
-- again from these columns when the first decision's write may have been lost (a crash between the
-- reservation and its alert). NULL on reservations made before this migration.
ALTER TABLE "reservations" ADD COLUMN "available_before" INTEGER, ADD COLUMN "low_stock_threshold" INTEGER;
