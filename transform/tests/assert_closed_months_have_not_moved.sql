-- Warns (loudly, with one row per moved figure) when a closed month's live figures differ from
-- the closed ones: something dated in a closed month changed in Wave after the close. The
-- documents behind each difference are in month_end_restatements. A warning, not an error: the
-- close stays as signed; the accountant decides whether to restate (close_month with force).
{{ config(severity='warn') }}

select distinct
    business_name,
    currency,
    close_month,
    close_version,
    figure,
    closed_value,
    live_value,
    difference
from {{ ref('month_end_restatements') }}
