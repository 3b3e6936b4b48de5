-- Live Wave businesses.
select
    business_id,
    name as business_name,
    currency,
    timezone,
    is_archived
from {{ source('wave', 'businesses') }}
where not _is_deleted
