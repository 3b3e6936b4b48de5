-- Live money transactions (from Wave's transaction.created webhooks): the anchor is the bank,
-- cash or card account the money moved in (DEPOSIT) or out of (WITHDRAWAL).
select
    business_id,
    id as transaction_id,
    external_id,
    description,
    date as transaction_date,
    anchor_account_id,
    anchor_amount,
    anchor_direction,
    created_at,
    _updated_at as updated_at,
    _load_id as load_id
from {{ source('wave', 'transactions') }}
where not _is_deleted
