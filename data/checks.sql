-- Invariant checks of a generated receivables database. Each query returns the number of
-- violations: every one must be 0. Run by data/arcc_datagen/checks.py (or psql: one by one).

-- name: unbalanced_moves
SELECT COUNT(*) FROM (
    SELECT move_id FROM account_move_line GROUP BY move_id HAVING SUM(balance) <> 0
) unbalanced;

-- name: debit_credit_not_matching_balance
SELECT COUNT(*) FROM account_move_line
 WHERE debit <> GREATEST(balance, 0) OR credit <> GREATEST(-balance, 0);

-- name: line_header_mismatch
SELECT COUNT(*) FROM account_move_line l JOIN account_move m ON m.id = l.move_id
 WHERE l.move_name <> m.name OR l.parent_state <> m.state OR l.date <> m.date
    OR l.journal_id <> m.journal_id OR l.company_id <> m.company_id;

-- name: orphan_references
SELECT (SELECT COUNT(*) FROM account_move_line l LEFT JOIN account_move m ON m.id = l.move_id
         WHERE m.id IS NULL)
     + (SELECT COUNT(*) FROM account_move_line l LEFT JOIN account_account a ON a.id = l.account_id
         WHERE a.id IS NULL)
     + (SELECT COUNT(*) FROM account_move_line l LEFT JOIN res_partner p ON p.id = l.partner_id
         WHERE l.partner_id IS NOT NULL AND p.id IS NULL)
     + (SELECT COUNT(*) FROM account_partial_reconcile p
          LEFT JOIN account_move_line d ON d.id = p.debit_move_id
          LEFT JOIN account_move_line c ON c.id = p.credit_move_id
         WHERE d.id IS NULL OR c.id IS NULL)
     + (SELECT COUNT(*) FROM account_payment p LEFT JOIN account_move m ON m.id = p.move_id
         WHERE m.id IS NULL OR m.origin_payment_id <> p.id)
     + (SELECT COUNT(*) FROM sale_order_line sl LEFT JOIN sale_order s ON s.id = sl.order_id
         WHERE s.id IS NULL);

-- name: residual_not_balance_minus_partials
WITH parts AS (
    SELECT line_id, SUM(amount) AS amount, SUM(amount_currency) AS amount_currency FROM (
        SELECT debit_move_id AS line_id, amount, debit_amount_currency AS amount_currency
          FROM account_partial_reconcile
        UNION ALL
        SELECT credit_move_id, -amount, -credit_amount_currency FROM account_partial_reconcile
    ) signed GROUP BY line_id
)
SELECT COUNT(*) FROM account_move_line l
  JOIN account_account a ON a.id = l.account_id
  LEFT JOIN parts ON parts.line_id = l.id
 WHERE (a.reconcile OR a.account_type IN ('asset_cash', 'liability_credit_card'))
   AND (l.amount_residual <> l.balance - COALESCE(parts.amount, 0)
        OR l.amount_residual_currency <> l.amount_currency - COALESCE(parts.amount_currency, 0));

-- name: residual_on_unreconcilable_line
SELECT COUNT(*) FROM account_move_line l JOIN account_account a ON a.id = l.account_id
 WHERE NOT (a.reconcile OR a.account_type IN ('asset_cash', 'liability_credit_card'))
   AND (l.amount_residual <> 0 OR l.amount_residual_currency <> 0 OR l.reconciled);

-- name: reconciled_flag_inconsistent
SELECT COUNT(*) FROM account_move_line l JOIN account_account a ON a.id = l.account_id
 WHERE (a.reconcile OR a.account_type IN ('asset_cash', 'liability_credit_card'))
   AND l.reconciled <> (l.amount_residual = 0 AND l.amount_residual_currency = 0);

-- name: full_reconcile_inconsistent
SELECT COUNT(*) FROM (
    SELECT f.id FROM account_full_reconcile f
      LEFT JOIN account_move_line l ON l.full_reconcile_id = f.id
     GROUP BY f.id
    HAVING COUNT(l.id) < 2 OR BOOL_OR(NOT l.reconciled) OR SUM(l.balance) <> 0
        OR SUM(l.amount_currency) <> 0
) bad;

-- name: partial_full_reconcile_mismatch
SELECT COUNT(*) FROM account_partial_reconcile p
  JOIN account_move_line d ON d.id = p.debit_move_id
  JOIN account_move_line c ON c.id = p.credit_move_id
 WHERE p.full_reconcile_id IS DISTINCT FROM d.full_reconcile_id
    OR p.full_reconcile_id IS DISTINCT FROM c.full_reconcile_id
    OR p.max_date <> GREATEST(d.date, c.date)
    OR p.amount <= 0 OR d.balance <= 0 OR c.balance >= 0
    OR d.account_id <> c.account_id OR d.partner_id <> c.partner_id
    OR p.debit_currency_id <> d.currency_id OR p.credit_currency_id <> c.currency_id;

-- name: open_component_fully_reconciled
-- A connected set of matched lines gets a full reconcile exactly when all its lines are settled.
SELECT COUNT(*) FROM account_move_line l
 WHERE l.matching_number LIKE 'P%' AND l.full_reconcile_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM account_move_line o
                    WHERE o.matching_number = l.matching_number AND NOT o.reconciled);

-- name: matching_number_inconsistent
SELECT COUNT(*) FROM account_move_line l
 WHERE (l.full_reconcile_id IS NOT NULL AND l.matching_number IS DISTINCT FROM l.full_reconcile_id::text)
    OR (l.full_reconcile_id IS NULL AND l.matching_number IS NOT NULL
        AND l.matching_number NOT LIKE 'P%')
    OR ((l.matching_number IS NOT NULL) <> EXISTS (
            SELECT 1 FROM account_partial_reconcile p
             WHERE p.debit_move_id = l.id OR p.credit_move_id = l.id));

-- name: partial_matching_number_not_min_partial
SELECT COUNT(*) FROM (
    SELECT l.matching_number, MIN(p.id) AS first_partial
      FROM account_move_line l
      JOIN account_partial_reconcile p ON p.debit_move_id = l.id OR p.credit_move_id = l.id
     WHERE l.matching_number LIKE 'P%'
     GROUP BY l.matching_number
) numbers WHERE matching_number <> 'P' || first_partial;

-- name: invoice_totals_inconsistent
SELECT COUNT(*) FROM account_move m JOIN (
    SELECT move_id,
           SUM(amount_currency) FILTER (WHERE display_type = 'product') AS untaxed_cur,
           SUM(amount_currency) FILTER (WHERE display_type = 'tax') AS tax_cur,
           SUM(balance) FILTER (WHERE display_type IN ('product', 'tax')) AS total_bal,
           SUM(amount_residual_currency) FILTER (WHERE display_type = 'payment_term') AS res_cur,
           SUM(amount_residual) FILTER (WHERE display_type = 'payment_term') AS res_bal,
           MAX(date_maturity) FILTER (WHERE display_type = 'payment_term') AS last_due
      FROM account_move_line GROUP BY move_id
) t ON t.move_id = m.id
 WHERE m.move_type IN ('out_invoice', 'out_refund')
   AND (m.amount_untaxed <> CASE WHEN m.move_type = 'out_invoice' THEN -1 ELSE 1 END * t.untaxed_cur
        OR m.amount_tax <> CASE WHEN m.move_type = 'out_invoice' THEN -1 ELSE 1 END * t.tax_cur
        OR m.amount_total <> m.amount_untaxed + m.amount_tax
        OR m.amount_total_signed <> -t.total_bal
        OR m.amount_residual <> CASE WHEN m.move_type = 'out_invoice' THEN 1 ELSE -1 END * t.res_cur
        OR m.amount_residual_signed <> t.res_bal
        OR m.invoice_date_due <> t.last_due);

-- name: payment_state_inconsistent
-- Same rules as AccountMove._compute_payment_state, over both sides of each partial.
WITH sides AS (
    SELECT debit_move_id AS source_id, credit_move_id AS counterpart_id
      FROM account_partial_reconcile
    UNION ALL
    SELECT credit_move_id, debit_move_id FROM account_partial_reconcile
), counterpart AS (
    SELECT src.move_id,
           BOOL_OR(pay.id IS NOT NULL) AS has_payment,
           COALESCE(BOOL_AND(COALESCE(pay.is_matched, FALSE))
                    FILTER (WHERE cm.origin_payment_id IS NOT NULL), TRUE) AS all_matched,
           ARRAY_AGG(DISTINCT cm.move_type) AS types
      FROM sides
      JOIN account_move_line src ON src.id = sides.source_id
      JOIN account_move_line cl ON cl.id = sides.counterpart_id
      JOIN account_move cm ON cm.id = cl.move_id
      LEFT JOIN account_payment pay ON pay.id = cm.origin_payment_id
     WHERE cl.move_id <> src.move_id
     GROUP BY src.move_id
), expected AS (
    SELECT m.id, m.payment_state,
           CASE
             WHEN m.amount_residual <> 0 THEN
                  CASE WHEN c.move_id IS NULL THEN 'not_paid' ELSE 'partial' END
             WHEN c.has_payment AND c.all_matched THEN 'paid'
             WHEN c.has_payment THEN %(in_payment_state)s
             WHEN m.move_type = 'out_invoice' AND c.types = ARRAY['out_refund']::varchar[]
                  THEN 'reversed'
             ELSE 'paid'
           END AS expected_state
      FROM account_move m LEFT JOIN counterpart c ON c.move_id = m.id
     WHERE m.move_type IN ('out_invoice', 'out_refund') AND m.state = 'posted'
)
SELECT COUNT(*) FROM expected WHERE payment_state <> expected_state;

-- name: payment_inconsistent
SELECT COUNT(*) FROM account_payment p
  JOIN account_move m ON m.id = p.move_id
  JOIN account_move_line liq ON liq.move_id = m.id AND liq.account_id = p.outstanding_account_id
  JOIN account_move_line rec ON rec.move_id = m.id AND rec.account_id = p.destination_account_id
 WHERE p.amount <> liq.amount_currency OR p.amount_company_currency_signed <> liq.balance
    OR m.amount_total <> p.amount OR liq.payment_id <> p.id OR rec.payment_id <> p.id
    OR p.is_reconciled <> (rec.amount_residual_currency = 0)
    OR p.state NOT IN ('in_process', 'paid') OR p.name <> m.name;

-- name: duplicate_sequence
SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM account_move WHERE state = 'posted'
                               GROUP BY journal_id, name HAVING COUNT(*) > 1) d)
     + (SELECT COUNT(*) FROM (SELECT 1 FROM account_move
                               GROUP BY journal_id, sequence_prefix, sequence_number
                               HAVING COUNT(*) > 1) d)
     + (SELECT COUNT(*) FROM account_move
         WHERE name <> sequence_prefix
                       || LPAD(sequence_number::text, GREATEST(5, LENGTH(sequence_number::text)), '0'))
     + (SELECT COUNT(*) FROM (SELECT 1 FROM sale_order GROUP BY name HAVING COUNT(*) > 1) d);

-- name: sale_order_totals_inconsistent
SELECT COUNT(*) FROM sale_order s JOIN (
    SELECT order_id, SUM(price_subtotal) AS untaxed, SUM(price_tax) AS tax,
           SUM(qty_to_invoice) AS to_invoice
      FROM sale_order_line GROUP BY order_id
) l ON l.order_id = s.id
 WHERE s.amount_untaxed <> l.untaxed OR s.amount_tax <> l.tax
    OR s.amount_total <> s.amount_untaxed + s.amount_tax
    OR (s.invoice_status = 'to invoice') <> (l.to_invoice > 0);
