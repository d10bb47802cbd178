CREATE TABLE "supplier_balance" (
	"supplier" text PRIMARY KEY NOT NULL,
	"balance_idr" bigint NOT NULL,
	"read_at" bigint NOT NULL,
	"read_by" text
);
