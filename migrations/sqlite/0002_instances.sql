ALTER TABLE `supplier_calls` ADD `instance_id` text;--> statement-breakpoint
ALTER TABLE `transaction_events` ADD `instance_id` text;