-- Live sales-tax amounts per transaction line (part of the line's amount).
select
    business_id,
    transaction_id,
    transaction_line_item_line_number,
    line_number,
    sales_tax_id,
    amount
from {{ source('wave', 'transaction_line_item_taxes') }}
where not _is_deleted
