ALTER TABLE `transactions` ADD `limit_key` text;--> statement-breakpoint
CREATE INDEX `transactions_limit_day` ON `transactions` (`sku`,`limit_key`,`created_at`);