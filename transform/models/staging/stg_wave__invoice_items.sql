-- Live invoice lines.
select
    business_id,
    invoice_id,
    line_number,
    product_id,
    account_id,
    description,
    quantity,
    unit_price,
    subtotal,
    total
from {{ source('wave', 'invoice_items') }}
where not _is_deleted
