-- The chart of accounts, archived and retired accounts included: a transaction keeps the category
-- of the account it was posted to, even if that account was archived or removed later.
select
    business_id,
    id as account_id,
    name as account_name,
    currency,
    type_value as account_type,
    subtype_value as account_subtype,
    normal_balance_type,
    is_archived,
    _is_deleted as is_deleted
from {{ source('wave', 'accounts') }}
