{#- The closes' own tables (the "ledger"): append-only, written only by close_month.

    They are not models: `dbt build`, `dbt run --full-refresh` and `dbt clean` never rewrite or
    drop them. on-run-start (dbt_project.yml) and close_month create them when missing, empty.
    Changing their columns later needs a migration (CREATE IF NOT EXISTS does not alter). -#}

{% macro month_end_ledger_columns() -%}
    {%- set figures = [] -%}
    {%- for figure in month_end_figures() -%}
        {%- do figures.append((figure, figure_type(figure))) -%}
    {%- endfor -%}
    {%- set text = dbt.type_string() -%}
    {{ return({
        'closed_months': [
            ('close_id', text), ('version', 'bigint'), ('close_month', 'date'),
            ('month_end_date', 'date'), ('business_id', text), ('business_name', text),
            ('currency', text)] + figures + [
            ('closed_at', month_end_timestamp_type()), ('closed_by', text),
            ('is_forced', 'boolean'), ('reason', text), ('last_load_id', text),
            ('last_load_finished_at', month_end_timestamp_type())],
        'closed_month_documents': [
            ('close_id', text), ('business_id', text), ('currency', text), ('close_month', 'date'),
            ('document_type', text), ('document_id', text), ('document_number', text),
            ('invoice_id', text)] + figures,
    }) }}
{%- endmacro %}

{% macro month_end_ledger_relation(name) -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier=name, type='table')) }}
{%- endmacro %}

{#- Creates the schema and both tables if missing; returns '' so it can be a hook. -#}
{% macro create_month_end_ledger() -%}
    {%- if execute -%}
        {%- do adapter.create_schema(api.Relation.create(database=target.database,
                                                         schema=target.schema)) -%}
        {%- for name, columns in month_end_ledger_columns().items() -%}
            {%- set create_sql -%}
                create table if not exists {{ month_end_ledger_relation(name) }} (
                    {%- for column, type in columns %}
                    {{ column }} {{ type }}{{ ',' if not loop.last }}
                    {%- endfor %}
                ) {{ month_end_ledger_table_options() }}
            {%- endset -%}
            {%- do run_query(create_sql) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Where the engines differ (adapter.dispatch: duckdb__, databricks__, default__). -#}

{#- The type of the warehouse's audit timestamps, so closed_at compares with _updated_at: DuckDB
    stores instants as TIMESTAMPTZ (the target writes them so); Databricks' TIMESTAMP is one. -#}
{% macro month_end_timestamp_type() -%}
    {{ return(adapter.dispatch('month_end_timestamp_type', 'wave_month_end')()) }}
{%- endmacro %}
{% macro default__month_end_timestamp_type() -%}{{ return('timestamp') }}{%- endmacro %}
{% macro duckdb__month_end_timestamp_type() -%}{{ return('timestamptz') }}{%- endmacro %}

{#- Databricks: a Delta table that refuses UPDATE and DELETE (delta.appendOnly). DuckDB has no
    such property: there the tables stay append-only because nothing in this project writes them
    but close_month's INSERTs. -#}
{% macro month_end_ledger_table_options() -%}
    {{ return(adapter.dispatch('month_end_ledger_table_options', 'wave_month_end')()) }}
{%- endmacro %}
{% macro default__month_end_ledger_table_options() -%}{{ return('') }}{%- endmacro %}
{% macro databricks__month_end_ledger_table_options() -%}
    {{ return("using delta tblproperties ('delta.appendOnly' = 'true')") }}
{%- endmacro %}

{#- One close is all or nothing where the engine has transactions: dbt-duckdb runs an operation's
    statements in autocommit, so close_month opens and commits its own transaction (a failure
    ends the connection and DuckDB rolls it back). Databricks commits each statement on its own;
    there a failed close can leave documents whose close_id no closed_months row names, which
    nothing reads. -#}
{% macro month_end_begin() -%}
    {{ return(adapter.dispatch('month_end_begin', 'wave_month_end')()) }}
{%- endmacro %}
{% macro default__month_end_begin() -%}{{ return('') }}{%- endmacro %}
{% macro duckdb__month_end_begin() -%}
    {%- do run_query('begin transaction') -%}
    {{ return('') }}
{%- endmacro %}

{% macro month_end_commit() -%}
    {{ return(adapter.dispatch('month_end_commit', 'wave_month_end')()) }}
{%- endmacro %}
{% macro default__month_end_commit() -%}{{ return('') }}{%- endmacro %}
{% macro duckdb__month_end_commit() -%}
    {%- do run_query('commit') -%}
    {{ return('') }}
{%- endmacro %}
