-- When the sweeper last asked the orders service (inventory.reservation_overdue) whether an overdue
-- reservation's order exists; it asks again only after a while without an answer.
ALTER TABLE "reservations" ADD COLUMN "check_requested_at" TIMESTAMPTZ(3);
