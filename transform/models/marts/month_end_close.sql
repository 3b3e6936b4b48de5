-- The month-end close per business, currency and month: what was invoiced (net revenue and
-- tax), the cash received, and the receivables still open at the month's end.
-- Receivables at a month end are rebuilt from history: each issued invoice dated by then, less
-- its payments dated by then (never below zero: an overpayment is not a receivable).
with months as (
    select * from {{ ref('int_close_months') }}
),

paid_by_month_end as (
    select
        months.business_id,
        months.currency,
        months.close_month,
        payment.invoice_id,
        sum(payment.amount) as amount_paid
    from months
    inner join {{ ref('int_invoice_payments') }} as payment
        on payment.business_id = months.business_id
        and payment.currency = months.currency
        and payment.payment_date <= months.month_end_date
    group by months.business_id, months.currency, months.close_month, payment.invoice_id
),

open_at_month_end as (
    select
        months.business_id,
        months.currency,
        months.close_month,
        sum(case
            when invoice.total - coalesce(paid.amount_paid, 0) > 0
                then invoice.total - coalesce(paid.amount_paid, 0)
            else 0
        end) as ar_outstanding
    from months
    inner join {{ ref('int_issued_invoices') }} as invoice
        on invoice.business_id = months.business_id
        and invoice.currency = months.currency
        and invoice.invoice_date <= months.month_end_date
    left join paid_by_month_end as paid
        on paid.business_id = months.business_id
        and paid.currency = months.currency
        and paid.close_month = months.close_month
        and paid.invoice_id = invoice.invoice_id
    group by months.business_id, months.currency, months.close_month
)

select
    months.business_id,
    business.business_name,
    months.currency,
    months.close_month,
    months.month_end_date,
    coalesce(revenue.invoice_count, 0) as invoice_count,
    coalesce(revenue.net_revenue, 0) as net_revenue,
    coalesce(revenue.tax_total, 0) as tax_total,
    coalesce(revenue.total_invoiced, 0) as total_invoiced,
    coalesce(cash.amount_received, 0) as payments_received,
    coalesce(open_items.ar_outstanding, 0) as ar_outstanding
from months
left join {{ ref('stg_wave__businesses') }} as business
    on business.business_id = months.business_id
left join {{ ref('revenue_by_month') }} as revenue
    on revenue.business_id = months.business_id
    and revenue.currency = months.currency
    and revenue.revenue_month = months.close_month
left join {{ ref('cash_received_by_month') }} as cash
    on cash.business_id = months.business_id
    and cash.currency = months.currency
    and cash.payment_month = months.close_month
left join open_at_month_end as open_items
    on open_items.business_id = months.business_id
    and open_items.currency = months.currency
    and open_items.close_month = months.close_month
