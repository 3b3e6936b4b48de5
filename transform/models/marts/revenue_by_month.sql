-- Revenue by invoice month, per business and invoice currency (amounts are never converted).
-- Issued invoices only: drafts and deleted invoices do not count.
select
    business_id,
    currency,
    invoice_month as revenue_month,
    count(*) as invoice_count,
    sum(subtotal) as subtotal,
    sum(discount_total) as discount_total,
    sum(subtotal) - sum(discount_total) as net_revenue,
    sum(tax_total) as tax_total,
    sum(total) as total_invoiced
from {{ ref('int_issued_invoices') }}
group by business_id, currency, invoice_month
