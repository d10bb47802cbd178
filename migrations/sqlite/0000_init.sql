CREATE TABLE `catalogue_brands` (
	`brand_key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`is_voucher` integer NOT NULL,
	`is_active` integer NOT NULL,
	`forms` text NOT NULL,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `catalogue_variations` (
	`brand_key` text NOT NULL,
	`variation_key` text NOT NULL,
	`name` text NOT NULL,
	`price` integer NOT NULL,
	`is_active` integer NOT NULL,
	`fetched_at` integer NOT NULL,
	PRIMARY KEY(`brand_key`, `variation_key`)
);
--> statement-breakpoint
CREATE TABLE `razer_exchanges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`transaction_number` text,
	`endpoint` text NOT NULL,
	`api_id` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`request_hash` text NOT NULL,
	`request_body` text NOT NULL,
	`response_status` integer NOT NULL,
	`response_headers` text NOT NULL,
	`response_body` text NOT NULL,
	`received_at` integer NOT NULL,
	`responded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `exchanges_by_transaction` ON `razer_exchanges` (`transaction_number`,`endpoint`,`id`);--> statement-breakpoint
CREATE TABLE `supplier_calls` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`transaction_number` text,
	`operation` text NOT NULL,
	`method` text NOT NULL,
	`url` text NOT NULL,
	`request_body` text,
	`http_status` integer,
	`reply_body` text,
	`rc_code` text,
	`outcome` text NOT NULL,
	`error` text,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `supplier_calls_by_transaction` ON `supplier_calls` (`transaction_number`,`id`);--> statement-breakpoint
CREATE INDEX `supplier_calls_by_time` ON `supplier_calls` (`started_at`);--> statement-breakpoint
CREATE TABLE `transaction_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`transaction_number` text NOT NULL,
	`from_state` text NOT NULL,
	`to_state` text NOT NULL,
	`cause` text NOT NULL,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`transaction_number`) REFERENCES `transactions`(`transaction_number`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "events_cause_valid" CHECK("transaction_events"."cause" in ('razer', 'supplier', 'webhook', 'reconciler', 'operator'))
);
--> statement-breakpoint
CREATE INDEX `events_by_transaction` ON `transaction_events` (`transaction_number`,`id`);--> statement-breakpoint
CREATE TABLE `transactions` (
	`transaction_number` text PRIMARY KEY NOT NULL,
	`api_id` text NOT NULL,
	`sku` text NOT NULL,
	`brand_key` text NOT NULL,
	`variation_key` text NOT NULL,
	`max_price` integer NOT NULL,
	`is_voucher` integer DEFAULT false NOT NULL,
	`account_id` text NOT NULL,
	`supplier_data` text NOT NULL,
	`razer_id` text,
	`user_ip` text,
	`country_code` text,
	`custom_param` text,
	`state` text NOT NULL,
	`token` text NOT NULL,
	`ref_id` text NOT NULL,
	`trx_code` text,
	`order_attempts` integer DEFAULT 0 NOT NULL,
	`price_offered` integer,
	`price_paid` integer,
	`voucher_code` text,
	`failure_code` text,
	`failure_reason` text,
	`expires_at` integer NOT NULL,
	`deadline_at` integer,
	`next_check_at` integer,
	`checks` integer DEFAULT 0 NOT NULL,
	`attention` integer DEFAULT false NOT NULL,
	`attention_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "transactions_state_valid" CHECK("transactions"."state" in ('INITIATED', 'QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN', 'SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transactions_ref_id_unique` ON `transactions` (`ref_id`);--> statement-breakpoint
CREATE INDEX `transactions_due` ON `transactions` (`state`,`next_check_at`);--> statement-breakpoint
CREATE INDEX `transactions_account_day` ON `transactions` (`sku`,`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `transactions_sku_day` ON `transactions` (`sku`,`created_at`);--> statement-breakpoint
CREATE INDEX `transactions_trx_code` ON `transactions` (`trx_code`);--> statement-breakpoint
CREATE INDEX `transactions_attention` ON `transactions` (`attention`);--> statement-breakpoint
CREATE TABLE `webhook_inbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` integer NOT NULL,
	`source_ip` text NOT NULL,
	`headers` text NOT NULL,
	`body` text NOT NULL,
	`body_sha256` text NOT NULL,
	`kind` text,
	`transaction_ref` text,
	`processed_at` integer,
	`result` text
);
--> statement-breakpoint
CREATE INDEX `webhooks_unprocessed` ON `webhook_inbox` (`processed_at`);--> statement-breakpoint
CREATE INDEX `webhooks_by_hash` ON `webhook_inbox` (`body_sha256`);