-- Live customers of every business.
select
    business_id,
    id as customer_id,
    name as customer_name,
    email,
    currency,
    is_archived
from {{ source('wave', 'customers') }}
where not _is_deleted
