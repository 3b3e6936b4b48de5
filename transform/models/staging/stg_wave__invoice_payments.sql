-- Live payments recorded against invoices.
select
    business_id,
    invoice_id,
    line_number,
    id as payment_id,
    payment_date,
    amount,
    payment_method,
    payment_currency,
    exchange_rate,
    account_id as deposit_account_id
from {{ source('wave', 'invoice_payments') }}
where not _is_deleted
