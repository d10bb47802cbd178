ALTER TABLE "transactions" ADD COLUMN "queries_repeated" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "last_queried_at" bigint;