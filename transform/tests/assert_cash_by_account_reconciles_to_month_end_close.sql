-- Cash per account adds up to the month-end close: per business, currency and month, the
-- invoice payments and the transactions' money in and out, exactly.
with by_account as (
    select
        business_id,
        currency,
        cash_month as close_month,
        sum(case when source = 'invoice_payment' then money_in else 0 end) as payments_received,
        sum(case when source = 'transaction' then money_in else 0 end) as transaction_money_in,
        sum(money_out) as transaction_money_out
    from {{ ref('cash_by_account_month') }}
    group by business_id, currency, cash_month
)

select
    coalesce(closing.business_id, by_account.business_id) as business_id,
    coalesce(closing.currency, by_account.currency) as currency,
    coalesce(closing.close_month, by_account.close_month) as close_month,
    closing.payments_received,
    by_account.payments_received as account_payments_received,
    closing.transaction_money_in,
    by_account.transaction_money_in as account_money_in,
    closing.transaction_money_out,
    by_account.transaction_money_out as account_money_out
from {{ ref('month_end_close') }} as closing
full outer join by_account
    on by_account.business_id = closing.business_id
    and by_account.currency = closing.currency
    and by_account.close_month = closing.close_month
where coalesce(closing.payments_received, 0) <> coalesce(by_account.payments_received, 0)
    or coalesce(closing.transaction_money_in, 0) <> coalesce(by_account.transaction_money_in, 0)
    or coalesce(closing.transaction_money_out, 0) <> coalesce(by_account.transaction_money_out, 0)
