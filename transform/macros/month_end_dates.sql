{#- Dates of the month-end close, in SQL that runs on DuckDB and Databricks alike. -#}

{#- The day accounts receivable are aged to: the `as_of_date` var (YYYY-MM-DD), else today. -#}
{% macro as_of_date() -%}
    {%- set day = var('as_of_date', '') | string | trim -%}
    {%- if day in ('', 'None') -%}
        current_date
    {%- elif modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', day) -%}
        cast('{{ day }}' as date)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var as_of_date (or DBT_AS_OF_DATE) is '" ~ day ~ "'; expected a day as "
            ~ "YYYY-MM-DD, e.g. --vars '{as_of_date: 2026-10-31}', or leave it empty for today") }}
    {%- endif -%}
{%- endmacro %}

{#- First day of the month `day_expression` falls in, as a DATE. -#}
{% macro month_of(day_expression) -%}
    cast({{ dbt.date_trunc('month', day_expression) }} as date)
{%- endmacro %}

{#- Last day of the month that starts on `month_expression`, as a DATE. -#}
{% macro month_end_of(month_expression) -%}
    cast({{ dbt.last_day(month_expression, 'month') }} as date)
{%- endmacro %}
