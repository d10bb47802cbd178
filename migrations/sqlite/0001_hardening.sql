PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_catalogue_brands` (
	`brand_key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`is_voucher` integer,
	`is_active` integer NOT NULL,
	`forms` text NOT NULL,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_catalogue_brands`("brand_key", "name", "is_voucher", "is_active", "forms", "fetched_at") SELECT "brand_key", "name", "is_voucher", "is_active", "forms", "fetched_at" FROM `catalogue_brands`;--> statement-breakpoint
DROP TABLE `catalogue_brands`;--> statement-breakpoint
ALTER TABLE `__new_catalogue_brands` RENAME TO `catalogue_brands`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `transactions` ADD `resends` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A cached false may be the old reader's default for a brand list that did not say: unknown until the next refresh.
UPDATE `catalogue_brands` SET `is_voucher` = NULL WHERE `is_voucher` = 0;
