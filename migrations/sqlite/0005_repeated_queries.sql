ALTER TABLE `transactions` ADD `queries_repeated` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `transactions` ADD `last_queried_at` integer;