-- Accounts-receivable aging per business, customer and currency as of the as-of date: the
-- amount due on unpaid issued invoices, bucketed by days past due (current = not yet due).
-- amount_due is Wave's current balance of each invoice; invoices dated after the as-of date
-- are left out.
with unpaid as (
    select
        business_id,
        customer_id,
        currency,
        amount_due,
        {{ dbt.datediff('due_date', as_of_date(), 'day') }} as days_past_due
    from {{ ref('int_issued_invoices') }}
    where amount_due > 0
        and invoice_date <= {{ as_of_date() }}
),

aged as (
    select
        business_id,
        customer_id,
        currency,
        count(*) as open_invoice_count,
        max(days_past_due) as oldest_days_past_due,
        sum(case when days_past_due <= 0 then amount_due else 0 end) as current_amount,
        sum(case when days_past_due between 1 and 30 then amount_due else 0 end)
            as past_due_1_30,
        sum(case when days_past_due between 31 and 60 then amount_due else 0 end)
            as past_due_31_60,
        sum(case when days_past_due between 61 and 90 then amount_due else 0 end)
            as past_due_61_90,
        sum(case when days_past_due > 90 then amount_due else 0 end) as past_due_over_90,
        sum(amount_due) as total_due
    from unpaid
    group by business_id, customer_id, currency
)

select
    aged.business_id,
    aged.customer_id,
    customer.customer_name,
    aged.currency,
    {{ as_of_date() }} as as_of_date,
    aged.open_invoice_count,
    aged.oldest_days_past_due,
    aged.current_amount,
    aged.past_due_1_30,
    aged.past_due_31_60,
    aged.past_due_61_90,
    aged.past_due_over_90,
    aged.total_due
from aged
left join {{ ref('stg_wave__customers') }} as customer
    on customer.business_id = aged.business_id
    and customer.customer_id = aged.customer_id
