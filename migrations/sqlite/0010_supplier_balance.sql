CREATE TABLE `supplier_balance` (
	`supplier` text PRIMARY KEY NOT NULL,
	`balance_idr` integer NOT NULL,
	`read_at` integer NOT NULL,
	`read_by` text
);
