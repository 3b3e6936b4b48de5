-- Live invoice headers (deleted invoices, status DELETED, are soft-deleted rows and left out).
select
    business_id,
    id as invoice_id,
    invoice_number,
    status,
    customer_id,
    currency,
    invoice_date,
    due_date,
    exchange_rate,
    subtotal,
    discount_total,
    tax_total,
    total,
    amount_paid,
    amount_due,
    created_at,
    modified_at
from {{ source('wave', 'invoices') }}
where not _is_deleted
