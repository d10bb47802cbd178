ALTER TABLE "transactions" ADD COLUMN "limit_key" text;--> statement-breakpoint
CREATE INDEX "transactions_limit_day" ON "transactions" USING btree ("sku","limit_key","created_at");