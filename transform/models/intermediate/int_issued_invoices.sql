-- Invoices that count for the books: live and issued (neither DRAFT nor DELETED).
-- The one place that decides which invoices count; every mart reads from here.
select
    business_id,
    invoice_id,
    invoice_number,
    status,
    customer_id,
    currency,
    invoice_date,
    {{ month_of('invoice_date') }} as invoice_month,
    due_date,
    subtotal,
    discount_total,
    tax_total,
    total,
    amount_paid,
    amount_due
from {{ ref('stg_wave__invoices') }}
where status not in ('DRAFT', 'DELETED')
