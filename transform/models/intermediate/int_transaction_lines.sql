-- Every live transaction line with what the month end needs to know about it: the month, the
-- account the money moved in or out of (the anchor) and its currency, the account the line is
-- categorised to, the line's sales tax, and whether it settles invoices.
--
-- Money in and out: a DEPOSIT anchor brings each line's amount in, a WITHDRAWAL takes it out.
-- Income and expenses: the line's amount less its sales tax, signed by the posting (a line that
-- increases an income account is income; one that decreases it, a refund, reduces income).
--
-- Invoice payments are counted once, from invoice_payments: a line categorised to Accounts
-- Receivable (subtype RECEIVABLE_INVOICES) is a customer paying invoices - the posting Wave makes
-- for an invoice payment - so it `settles_invoices` and is left out of the transaction figures.
with taxes as (
    select
        business_id,
        transaction_id,
        transaction_line_item_line_number as line_number,
        sum(amount) as tax_amount
    from {{ ref('stg_wave__transaction_line_item_taxes') }}
    group by business_id, transaction_id, transaction_line_item_line_number
),

lines as (
    select
        line.business_id,
        line.transaction_id,
        line.line_number,
        txn.transaction_date,
        {{ month_of('txn.transaction_date') }} as transaction_month,
        txn.external_id,
        txn.description as transaction_description,
        txn.anchor_account_id,
        anchor.account_name as anchor_account_name,
        coalesce(anchor.currency, business.currency) as currency,
        txn.anchor_direction,
        line.account_id,
        category.account_name,
        category.account_type,
        category.account_subtype,
        line.customer_id,
        line.amount,
        coalesce(taxes.tax_amount, 0) as tax_amount,
        line.amount - coalesce(taxes.tax_amount, 0) as net_amount,
        case
            when line.balance = 'DEBIT' then 1
            when line.balance = 'CREDIT' then -1
            when (line.balance = 'INCREASE') = (category.normal_balance_type = 'DEBIT') then 1
            else -1
        end as debit_sign,
        coalesce(category.account_subtype = 'RECEIVABLE_INVOICES', false) as settles_invoices
    from {{ ref('stg_wave__transaction_line_items') }} as line
    inner join {{ ref('stg_wave__transactions') }} as txn
        on txn.business_id = line.business_id
        and txn.transaction_id = line.transaction_id
    left join {{ ref('stg_wave__accounts') }} as anchor
        on anchor.business_id = txn.business_id
        and anchor.account_id = txn.anchor_account_id
    left join {{ ref('stg_wave__accounts') }} as category
        on category.business_id = line.business_id
        and category.account_id = line.account_id
    left join {{ ref('stg_wave__businesses') }} as business
        on business.business_id = txn.business_id
    left join taxes
        on taxes.business_id = line.business_id
        and taxes.transaction_id = line.transaction_id
        and taxes.line_number = line.line_number
)

select
    *,
    case when anchor_direction = 'DEPOSIT' and not settles_invoices then amount else 0 end
        as money_in,
    case when anchor_direction = 'WITHDRAWAL' and not settles_invoices then amount else 0 end
        as money_out,
    case when account_type = 'INCOME' then -debit_sign * net_amount else 0 end as income,
    case when account_type = 'EXPENSE' then debit_sign * net_amount else 0 end as expense
from lines
