-- Cash received: live payments on issued invoices by payment month, per business and currency.
select
    business_id,
    currency,
    payment_month,
    count(*) as payment_count,
    count(distinct invoice_id) as invoice_count,
    sum(amount) as amount_received
from {{ ref('int_invoice_payments') }}
group by business_id, currency, payment_month
