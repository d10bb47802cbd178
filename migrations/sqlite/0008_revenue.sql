-- What a sale earns, recorded at init. Rows written before this release keep nulls: "not recorded".
ALTER TABLE `transactions` ADD `revenue_minor` integer;--> statement-breakpoint
ALTER TABLE `transactions` ADD `revenue_currency` text;--> statement-breakpoint
ALTER TABLE `transactions` ADD `revenue_rate_e6` integer;--> statement-breakpoint
ALTER TABLE `transactions` ADD `revenue_rate_set` text;--> statement-breakpoint
ALTER TABLE `transactions` ADD `revenue_idr` integer;