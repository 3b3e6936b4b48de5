-- The month-end close per business, currency and month, as the books say today: what was
-- invoiced (net revenue and tax), the invoice payments received, the receivables still open at
-- the month's end, and the money that moved through transactions (in, out, and the income and
-- expenses they record). Each figure is the sum of its documents (int_month_end_documents).
-- A closed month keeps its figures as signed in closed_months; month_end_restatements lists
-- where these live figures have moved away from them.
with figures as (
    select
        business_id,
        currency,
        close_month,
        {{ sum_figures('documents') }}
    from {{ ref('int_month_end_documents') }} as documents
    group by business_id, currency, close_month
)

select
    months.business_id,
    business.business_name,
    months.currency,
    months.close_month,
    months.month_end_date,
    {%- for figure in month_end_figures() %}
    coalesce(figures.{{ figure }}, 0) as {{ figure }},
    {%- endfor %}
    coalesce(figures.payments_received, 0) + coalesce(figures.transaction_money_in, 0)
        - coalesce(figures.transaction_money_out, 0) as net_money_in
from {{ ref('int_close_months') }} as months
left join {{ ref('stg_wave__businesses') }} as business
    on business.business_id = months.business_id
left join figures
    on figures.business_id = months.business_id
    and figures.currency = months.currency
    and figures.close_month = months.close_month
