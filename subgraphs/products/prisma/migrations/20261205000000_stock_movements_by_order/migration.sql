-- An order's stock movements, for its timeline (Order.stockTimeline): read by order, in id order.
CREATE INDEX "stock_movements_order_id_id_idx" ON "stock_movements"("order_id", "id");
