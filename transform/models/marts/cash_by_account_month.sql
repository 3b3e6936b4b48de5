-- Money in and out per business, bank/cash/card account and month, by where it came from:
--   source 'invoice_payment': payments recorded on invoices, into their deposit account
--     (category: the Accounts Receivable they settle);
--   source 'transaction': transaction lines, into or out of the transaction's anchor account,
--     by the type and subtype of the account each line is categorised to (income, expense, ...).
-- A transaction line categorised to Accounts Receivable is the same money as an invoice payment
-- and is counted there only (see int_transaction_lines): nothing here is counted twice.
with movements as (
    select
        business_id,
        currency,
        payment_month as cash_month,
        deposit_account_id as account_id,
        'invoice_payment' as source,
        'ASSET' as category_type,
        'RECEIVABLE_INVOICES' as category_subtype,
        payment_id as document_id,
        amount as money_in,
        cast(0 as decimal(38, 6)) as money_out
    from {{ ref('int_invoice_payments') }}
    union all
    select
        business_id,
        currency,
        transaction_month as cash_month,
        anchor_account_id as account_id,
        'transaction' as source,
        account_type as category_type,
        account_subtype as category_subtype,
        transaction_id as document_id,
        money_in,
        money_out
    from {{ ref('int_transaction_lines') }}
    where not settles_invoices
)

select
    movements.business_id,
    movements.currency,
    movements.cash_month,
    movements.account_id,
    account.account_name,
    account.account_subtype,
    movements.source,
    movements.category_type,
    movements.category_subtype,
    count(distinct movements.document_id) as document_count,
    sum(movements.money_in) as money_in,
    sum(movements.money_out) as money_out,
    sum(movements.money_in) - sum(movements.money_out) as net_change
from movements
left join {{ ref('stg_wave__accounts') }} as account
    on account.business_id = movements.business_id
    and account.account_id = movements.account_id
group by movements.business_id, movements.currency, movements.cash_month, movements.account_id,
    account.account_name, account.account_subtype, movements.source, movements.category_type,
    movements.category_subtype
