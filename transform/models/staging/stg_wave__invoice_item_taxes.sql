-- Live sales-tax amounts per invoice line.
select
    business_id,
    invoice_id,
    invoice_item_line_number,
    line_number,
    sales_tax_id,
    amount
from {{ source('wave', 'invoice_item_taxes') }}
where not _is_deleted
