-- Live payments on issued invoices, in the invoice's currency, with the month they fell in.
select
    payment.business_id,
    payment.invoice_id,
    payment.payment_id,
    invoice.invoice_number,
    invoice.customer_id,
    invoice.currency,
    payment.payment_date,
    {{ month_of('payment.payment_date') }} as payment_month,
    payment.amount,
    payment.deposit_account_id
from {{ ref('stg_wave__invoice_payments') }} as payment
inner join {{ ref('int_issued_invoices') }} as invoice
    on invoice.business_id = payment.business_id
    and invoice.invoice_id = payment.invoice_id
