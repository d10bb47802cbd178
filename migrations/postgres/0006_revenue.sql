-- What a sale earns, recorded at init. Rows written before this release keep nulls: "not recorded".
ALTER TABLE "transactions" ADD COLUMN IF NOT EXISTS "revenue_minor" bigint;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN IF NOT EXISTS "revenue_currency" text;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN IF NOT EXISTS "revenue_rate_e6" bigint;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN IF NOT EXISTS "revenue_rate_set" text;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN IF NOT EXISTS "revenue_idr" bigint;