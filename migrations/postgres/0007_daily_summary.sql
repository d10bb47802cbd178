-- The daily summary: one row per day summarised, so that it is sent once whatever the number of instances.
CREATE TABLE "daily_summaries" (
	"day" text PRIMARY KEY NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_until" bigint NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"sent_at" bigint,
	"sent_by" text
);