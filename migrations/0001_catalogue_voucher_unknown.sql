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
PRAGMA foreign_keys=ON;