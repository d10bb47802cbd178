-- Amounts are whole IDR. Versions before the Mitra amount rule (src/mitra/amounts.ts) stored a
-- fractional selling_total or grand_total as sent; round them half up, as that rule now does.
UPDATE `transactions` SET `price_paid` = CAST(ROUND(`price_paid`) AS INTEGER) WHERE typeof(`price_paid`) = 'real';
--> statement-breakpoint
UPDATE `transactions` SET `price_offered` = CAST(ROUND(`price_offered`) AS INTEGER) WHERE typeof(`price_offered`) = 'real';
