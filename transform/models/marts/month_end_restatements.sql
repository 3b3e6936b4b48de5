-- Restatements: for every closed month (its latest close version), each figure whose live value
-- now differs from the closed one, the difference, and the documents that moved it: every
-- invoice, payment or transaction whose contribution to that figure is not what the close
-- recorded, with what Wave did to it since (from the warehouse's audit columns).
--
--   change   per figure: 'added'    the document adds to it now but did not at the close
--                                   (created or re-dated into the month, an invoice open at the
--                                   month end again, ...)
--                       'removed'  it added to it at the close and no longer does (deleted in
--                                   Wave, re-dated out of the month, an invoice no longer open at
--                                   the month end after a late payment dated in it, ...)
--                       'changed'  it adds a different amount
--   deleted_in_wave, deleted_at   the document's row is deleted (`_is_deleted`, `_deleted_at`)
--   updated_at, load_id           when and by which load its row (for a payment: it or its
--                                 invoice's) was last written (`_updated_at`, `_load_id`);
--                                 changed_after_close: written after the close's closed_at
-- A view: it always compares the closes with the current Wave tables, even between builds.
{{ config(materialized='view') }}
{%- set figures = month_end_figures() %}

with closes as (
    select * from {{ source('month_end_ledger', 'closed_months') }}
),

latest as (
    -- The figures in force: the latest version of each business's close of each month.
    select closes.*
    from closes
    inner join (
        select business_id, close_month, max(version) as version
        from closes
        group by business_id, close_month
    ) as newest
        on newest.business_id = closes.business_id
        and newest.close_month = closes.close_month
        and newest.version = closes.version
),

close_info as (
    select distinct
        business_id, close_month, close_id, version, closed_at, closed_by, business_name
    from latest
),

closed_documents as (
    select documents.*
    from {{ source('month_end_ledger', 'closed_month_documents') }} as documents
    inner join close_info
        on close_info.close_id = documents.close_id
        and close_info.business_id = documents.business_id
        and close_info.close_month = documents.close_month
),

live_documents as (
    select live.*
    from {{ ref('int_month_end_documents') }} as live
    inner join close_info
        on close_info.business_id = live.business_id
        and close_info.close_month = live.close_month
),

live_figures as (
    select business_id, currency, close_month, {{ sum_figures('live_documents') }}
    from live_documents
    group by business_id, currency, close_month
),

figure_pairs as (
    select
        coalesce(closed.business_id, live.business_id) as business_id,
        coalesce(closed.currency, live.currency) as currency,
        coalesce(closed.close_month, live.close_month) as close_month,
        {%- for figure in figures %}
        coalesce(closed.{{ figure }}, 0) as closed_{{ figure }},
        coalesce(live.{{ figure }}, 0) as live_{{ figure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from latest as closed
    full outer join live_figures as live
        on live.business_id = closed.business_id
        and live.currency = closed.currency
        and live.close_month = closed.close_month
),

moved_figures as (
    {%- for figure in figures %}
    select
        business_id, currency, close_month, '{{ figure }}' as figure,
        cast(closed_{{ figure }} as decimal(38, 6)) as closed_value,
        cast(live_{{ figure }} as decimal(38, 6)) as live_value
    from figure_pairs
    where closed_{{ figure }} <> live_{{ figure }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

document_pairs as (
    select
        coalesce(closed.business_id, live.business_id) as business_id,
        coalesce(closed.currency, live.currency) as currency,
        coalesce(closed.close_month, live.close_month) as close_month,
        coalesce(closed.document_type, live.document_type) as document_type,
        coalesce(closed.document_id, live.document_id) as document_id,
        coalesce(live.document_number, closed.document_number) as document_number,
        coalesce(closed.invoice_id, live.invoice_id) as invoice_id,
        {%- for figure in figures %}
        coalesce(closed.{{ figure }}, 0) as closed_{{ figure }},
        coalesce(live.{{ figure }}, 0) as live_{{ figure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from closed_documents as closed
    full outer join live_documents as live
        on live.business_id = closed.business_id
        and live.currency = closed.currency
        and live.close_month = closed.close_month
        and live.document_type = closed.document_type
        and live.document_id = closed.document_id
),

moved_documents as (
    {%- for figure in figures %}
    select
        business_id, currency, close_month, '{{ figure }}' as figure, document_type,
        document_id, document_number, invoice_id,
        case
            when closed_{{ figure }} = 0 then 'added'
            when live_{{ figure }} = 0 then 'removed'
            else 'changed'
        end as change,
        cast(closed_{{ figure }} as decimal(38, 6)) as closed_amount,
        cast(live_{{ figure }} as decimal(38, 6)) as live_amount
    from document_pairs
    where closed_{{ figure }} <> live_{{ figure }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

-- The audit columns of each document's row: a payment's own row is found by its Wave id (the
-- live one if any, else the latest); when none is left, its invoice's row stands in.
audited as (
    select
        business_id, 'invoice' as document_type, id as document_id, _updated_at as updated_at,
        _load_id as load_id, _is_deleted as is_deleted, _deleted_at as deleted_at,
        1 as preference
    from {{ source('wave', 'invoices') }}
    union all
    select
        business_id, 'payment', id, _updated_at, _load_id, _is_deleted, _deleted_at,
        row_number() over (
            partition by business_id, id
            order by case when _is_deleted then 1 else 0 end, _updated_at desc
        )
    from {{ source('wave', 'invoice_payments') }}
    union all
    select
        business_id, 'transaction', id, _updated_at, _load_id, _is_deleted, _deleted_at, 1
    from {{ source('wave', 'transactions') }}
),

audit as (
    select * from audited where preference = 1
)

select
    moved.business_id,
    close_info.business_name,
    moved.currency,
    moved.close_month,
    close_info.version as close_version,
    close_info.close_id,
    close_info.closed_at,
    close_info.closed_by,
    moved.figure,
    moved.closed_value,
    moved.live_value,
    moved.live_value - moved.closed_value as difference,
    doc.document_type,
    doc.document_id,
    doc.document_number,
    doc.invoice_id,
    doc.change,
    doc.closed_amount,
    doc.live_amount,
    doc.live_amount - doc.closed_amount as amount_difference,
    -- A payment of a deleted invoice is gone with it, whatever its own row says.
    coalesce(own.is_deleted, false) or coalesce(invoice.is_deleted, false) as deleted_in_wave,
    coalesce(own.deleted_at, invoice.deleted_at) as deleted_at,
    -- A payment travels inside its invoice: the later of the two rows' writes.
    case when invoice.updated_at > own.updated_at then invoice.updated_at
        else coalesce(own.updated_at, invoice.updated_at) end as updated_at,
    case when invoice.updated_at > own.updated_at then invoice.load_id
        else coalesce(own.load_id, invoice.load_id) end as load_id,
    coalesce(own.updated_at > close_info.closed_at, false)
        or coalesce(invoice.updated_at > close_info.closed_at, false) as changed_after_close
from moved_figures as moved
inner join close_info
    on close_info.business_id = moved.business_id
    and close_info.close_month = moved.close_month
left join moved_documents as doc
    on doc.business_id = moved.business_id
    and doc.currency = moved.currency
    and doc.close_month = moved.close_month
    and doc.figure = moved.figure
left join audit as own
    on own.business_id = doc.business_id
    and own.document_type = doc.document_type
    and own.document_id = doc.document_id
left join audit as invoice
    on invoice.business_id = doc.business_id
    and invoice.document_type = 'invoice'
    and invoice.document_id = doc.invoice_id
