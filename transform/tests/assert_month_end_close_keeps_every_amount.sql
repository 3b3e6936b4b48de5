-- The close loses no month: per business and currency, its revenue and payments add up to the
-- same totals as revenue_by_month and cash_received_by_month.
with close_totals as (
    select business_id, currency,
        sum(total_invoiced) as total_invoiced, sum(payments_received) as payments_received
    from {{ ref('month_end_close') }}
    group by business_id, currency
),

revenue_totals as (
    select business_id, currency, sum(total_invoiced) as total_invoiced
    from {{ ref('revenue_by_month') }}
    group by business_id, currency
),

cash_totals as (
    select business_id, currency, sum(amount_received) as amount_received
    from {{ ref('cash_received_by_month') }}
    group by business_id, currency
)

select close_totals.*, revenue_totals.total_invoiced as expected_invoiced,
    cash_totals.amount_received as expected_received
from close_totals
left join revenue_totals
    on revenue_totals.business_id = close_totals.business_id
    and revenue_totals.currency = close_totals.currency
left join cash_totals
    on cash_totals.business_id = close_totals.business_id
    and cash_totals.currency = close_totals.currency
where close_totals.total_invoiced is distinct from coalesce(revenue_totals.total_invoiced, 0)
    or close_totals.payments_received is distinct from coalesce(cash_totals.amount_received, 0)
