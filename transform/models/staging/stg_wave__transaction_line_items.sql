-- Live transaction lines: each is categorised to an account (income, expense, receivable, ...);
-- their amounts, sales taxes included, add up to the transaction's anchor amount.
select
    business_id,
    transaction_id,
    line_number,
    account_id,
    customer_id,
    description,
    amount,
    balance
from {{ source('wave', 'transaction_line_items') }}
where not _is_deleted
