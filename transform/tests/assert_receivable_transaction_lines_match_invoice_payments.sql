-- A transaction line categorised to Accounts Receivable is left out of the transaction figures
-- because it is the money of an invoice payment, counted from invoice_payments. Warns when no
-- invoice payment matches it (same business, deposited into the transaction's account, same
-- day, same amount): money received against receivables that no invoice shows as paid, which
-- the month end then counts nowhere until the payment is recorded on its invoice in Wave.
{{ config(severity='warn') }}

select
    line.business_id,
    line.transaction_id,
    line.line_number,
    line.transaction_date,
    line.anchor_account_name,
    line.customer_id,
    line.amount
from {{ ref('int_transaction_lines') }} as line
where line.settles_invoices
    and not exists (
        select 1
        from {{ ref('int_invoice_payments') }} as payment
        where payment.business_id = line.business_id
            and payment.deposit_account_id = line.anchor_account_id
            and payment.payment_date = line.transaction_date
            and payment.amount = line.amount
    )
