{#- Closing a month: `dbt run-operation close_month --args '{month: "2026-11"}'`.

    Records the month's figures per business and currency as closed, with the documents behind
    them, in the append-only closed_months / closed_month_documents tables: when (closed_at), by
    which dbt invocation (close_id) and with which warehouse load last included (last_load_id).

    Arguments:
      month         YYYY-MM, a month that has ended by the as-of date (var as_of_date, default today)
      force         true to close again a month already closed: a new version is added, every
                    earlier version is kept as it was
      reason        free text kept with the close (why it was forced, who signed, ...)
      business_ids  close only these businesses (default: every business with books that month)
      closed_by     who closes (default: DBT_CLOSED_BY, else USER)

    The figures come from the live models (int_month_end_documents: views over the Wave tables),
    so run `dbt build` first: it runs the reconciliation checks the close relies on. -#}
{% macro close_month(month, force=false, reason=none, business_ids=none, closed_by=none) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set first_day, last_day = month_end_parse_month(month) -%}
    {%- set as_of = month_end_as_of_day() -%}
    {%- if as_of <= last_day -%}
        {{ exceptions.raise_compiler_error(
            "close_month: " ~ month ~ " has not ended yet (as of " ~ as_of ~ "); a month can be "
            ~ "closed from the day after its last day") }}
    {%- endif -%}
    {%- set forced = (force | string | lower) in ('true', 'yes', '1') -%}
    {%- if business_ids is string -%}{%- set business_ids = [business_ids] -%}{%- endif -%}

    {%- set documents_view = load_relation(ref('int_month_end_documents')) -%}
    {%- set months_view = load_relation(ref('int_close_months')) -%}
    {%- if documents_view is none or months_view is none -%}
        {{ exceptions.raise_compiler_error(
            "close_month: the month-end models are not built in " ~ target.schema
            ~ "; run `dbt build` first") }}
    {%- endif -%}
    {%- do create_month_end_ledger() -%}
    {%- set closed = month_end_ledger_relation('closed_months') -%}
    {%- set documents = month_end_ledger_relation('closed_month_documents') -%}
    {%- set month_literal = "cast('" ~ first_day ~ "' as date)" -%}

    {#- Which businesses: those with books in the month (and in business_ids, when given). -#}
    {%- set business_filter -%}
        {%- if business_ids -%}
            and business_id in (
                {%- for business_id in business_ids -%}
                    {{ dbt.string_literal(dbt.escape_single_quotes(business_id | string)) }}
                    {{- ', ' if not loop.last }}
                {%- endfor -%})
        {%- endif -%}
    {%- endset -%}
    {%- set closable = run_query("select distinct business_id from " ~ months_view
        ~ " where close_month = " ~ month_literal ~ " " ~ business_filter
        ~ " order by business_id").columns[0].values() -%}
    {%- if closable | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "close_month: no business has books in " ~ month
            ~ (" among business_ids " ~ business_ids if business_ids else "")
            ~ "; nothing to close (is the warehouse synced and `dbt build` run?)") }}
    {%- endif -%}
    {%- set closable_list -%}
        {%- for business_id in closable -%}
            {{ dbt.string_literal(dbt.escape_single_quotes(business_id)) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endset -%}

    {#- Refuse a second close unless forced. -#}
    {%- set earlier = run_query(
        "select count(distinct business_id), max(version), max(closed_at) from " ~ closed
        ~ " where close_month = " ~ month_literal ~ " and business_id in (" ~ closable_list ~ ")"
    ).rows[0] -%}
    {%- if earlier[0] > 0 and not forced -%}
        {{ exceptions.raise_compiler_error(
            "close_month: " ~ month ~ " is already closed for " ~ earlier[0] ~ " of the "
            ~ (closable | length) ~ " businesses (latest version " ~ earlier[1] ~ ", closed at "
            ~ earlier[2] ~ "). Refused: the closed figures stay as signed. To close it again, "
            ~ "pass force: true (and a reason); the earlier version is kept."
            ~ (" To close only the businesses not closed yet, list them in business_ids."
               if earlier[0] < closable | length else "")) }}
    {%- endif -%}

    {%- set close_id = invocation_id -%}
    {%- set who = closed_by or env_var('DBT_CLOSED_BY', env_var('USER', 'unknown')) -%}
    {%- set figure_names = month_end_figures() -%}

    {%- do month_end_begin() -%}
    {#- 1. The documents behind every figure, as they are now. -#}
    {%- set insert_documents -%}
        insert into {{ documents }} (close_id, business_id, currency, close_month, document_type,
            document_id, document_number, invoice_id, {{ figure_names | join(', ') }})
        select
            {{ dbt.string_literal(close_id) }}, business_id, currency, close_month,
            document_type, document_id, document_number, invoice_id,
            {{ figure_names | join(', ') }}
        from {{ documents_view }}
        where close_month = {{ month_literal }}
            and business_id in ({{ closable_list }})
    {%- endset -%}
    {%- do run_query(insert_documents) -%}

    {#- 2. The figures: sums of exactly the documents just recorded, for every business and
           currency with books that month (zero when it had no document). -#}
    {%- set insert_figures -%}
        insert into {{ closed }} (close_id, version, close_month, month_end_date, business_id,
            business_name, currency, {{ figure_names | join(', ') }}, closed_at, closed_by,
            is_forced, reason, last_load_id, last_load_finished_at)
        select
            {{ dbt.string_literal(close_id) }},
            coalesce(previous.version, 0) + 1,
            months.close_month,
            months.month_end_date,
            months.business_id,
            business.business_name,
            months.currency,
            {{ sum_figures('documents') }},
            current_timestamp,
            {{ dbt.string_literal(dbt.escape_single_quotes(who | string)) }},
            {{ 'true' if forced else 'false' }},
            {{ dbt.string_literal(dbt.escape_single_quotes(reason | string)) if reason
               else 'cast(null as ' ~ dbt.type_string() ~ ')' }},
            last_load.load_id,
            last_load.finished_at
        from {{ months_view }} as months
        left join {{ ref('stg_wave__businesses') }} as business
            on business.business_id = months.business_id
        left join {{ documents }} as documents
            on documents.close_id = {{ dbt.string_literal(close_id) }}
            and documents.business_id = months.business_id
            and documents.currency = months.currency
            and documents.close_month = months.close_month
        left join (
            select business_id, max(version) as version
            from {{ closed }}
            where close_month = {{ month_literal }}
            group by business_id
        ) as previous
            on previous.business_id = months.business_id
        left join (
            select load_id, finished_at
            from {{ source('wave', '_load_audit') }}
            where finished_at is not null
            order by finished_at desc
            limit 1
        ) as last_load
            on 1 = 1
        where months.close_month = {{ month_literal }}
            and months.business_id in ({{ closable_list }})
        group by months.close_month, months.month_end_date, months.business_id,
            business.business_name, months.currency, previous.version, last_load.load_id,
            last_load.finished_at
    {%- endset -%}
    {%- do run_query(insert_figures) -%}
    {%- do month_end_commit() -%}

    {%- set summary = run_query(
        "select business_name, currency, version, invoice_count, net_revenue, payments_received,"
        ~ " ar_outstanding, transaction_money_in, transaction_money_out from " ~ closed
        ~ " where close_id = " ~ dbt.string_literal(close_id)
        ~ " order by business_name, currency") -%}
    {{ log("Closed " ~ month ~ (" again (forced)" if forced else "") ~ " for "
           ~ (closable | length) ~ " businesses: close_id " ~ close_id ~ ", by " ~ who
           ~ "; figures in " ~ closed, info=True) }}
    {%- for row in summary.rows %}
        {{ log("  " ~ row[0] ~ " " ~ row[1] ~ " v" ~ row[2] ~ ": " ~ row[3] ~ " invoices, net "
               ~ "revenue " ~ ("%.2f" | format(row[4])) ~ ", payments " ~ ("%.2f" | format(row[5]))
               ~ ", AR open " ~ ("%.2f" | format(row[6])) ~ ", transactions in "
               ~ ("%.2f" | format(row[7])) ~ " out " ~ ("%.2f" | format(row[8])), info=True) }}
    {%- endfor %}
{% endmacro %}

{#- 'YYYY-MM' -> (first day, last day) as dates, or a clear error. -#}
{% macro month_end_parse_month(month) -%}
    {%- set text = month | string | trim -%}
    {%- set match = modules.re.fullmatch('([0-9]{4})-([0-9]{2})', text) -%}
    {%- if not match or (match.group(2) | int) < 1 or (match.group(2) | int) > 12 -%}
        {{ exceptions.raise_compiler_error(
            "close_month: month is '" ~ text ~ "'; expected YYYY-MM, e.g. "
            ~ "--args '{month: \"2026-11\"}'") }}
    {%- endif -%}
    {%- set first_day = modules.datetime.date(match.group(1) | int, match.group(2) | int, 1) -%}
    {%- set next_month = (first_day + modules.datetime.timedelta(days=32)).replace(day=1) -%}
    {{ return((first_day, next_month - modules.datetime.timedelta(days=1))) }}
{%- endmacro %}

{#- The as-of day as a date: the as_of_date var (YYYY-MM-DD), else today. -#}
{% macro month_end_as_of_day() -%}
    {%- set day = var('as_of_date', '') | string | trim -%}
    {%- if day in ('', 'None') -%}
        {{ return(modules.datetime.date.today()) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day) -%}
        {{ exceptions.raise_compiler_error(
            "var as_of_date (or DBT_AS_OF_DATE) is '" ~ day ~ "'; expected a day as YYYY-MM-DD") }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.strptime(day, '%Y-%m-%d').date()) }}
{%- endmacro %}
