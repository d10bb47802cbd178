ALTER TABLE `transactions` ADD `topped_up_at` integer;--> statement-breakpoint
-- Open purchases topped up before this release: their deadline was always 24 h after the top-up.
UPDATE `transactions` SET `topped_up_at` = `deadline_at` - 86400000 WHERE `state` IN ('QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN') AND `deadline_at` IS NOT NULL;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `transactions_open_since` ON `transactions` (`state`,`topped_up_at`,`transaction_number`) WHERE "transactions"."state" in ('QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN');
