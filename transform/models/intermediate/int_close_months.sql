-- Every month to close, per business and currency, with no gaps: from the first month with an
-- issued invoice, a payment or a transaction through the later of the last such month and the
-- as-of month.
with activity as (
    select business_id, currency, invoice_month as activity_month
    from {{ ref('int_issued_invoices') }}
    union all
    select business_id, currency, payment_month as activity_month
    from {{ ref('int_invoice_payments') }}
    union all
    select business_id, currency, transaction_month as activity_month
    from {{ ref('int_transaction_lines') }}
),

bounds as (
    select
        business_id,
        currency,
        min(activity_month) as first_month,
        max(activity_month) as last_activity_month
    from activity
    group by business_id, currency
),

month_offsets as (
    -- 1 .. 1200: a hundred years of months is more than any books hold.
    {{ dbt.generate_series(1200) }}
),

months as (
    select
        bounds.business_id,
        bounds.currency,
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1',
                            'bounds.first_month') }} as date) as close_month
    from bounds
    cross join month_offsets
    where month_offsets.generated_number - 1 <= greatest(
        {{ dbt.datediff('bounds.first_month', 'bounds.last_activity_month', 'month') }},
        {{ dbt.datediff('bounds.first_month', month_of(as_of_date()), 'month') }}
    )
)

select
    business_id,
    currency,
    close_month,
    {{ month_end_of('close_month') }} as month_end_date
from months
