{#- The figures of the month-end close, in one place: month_end_close, the documents behind it,
    the close (closed_months) and the restatements all list them from here, in this order. -#}

{% macro month_end_figures() -%}
    {{ return([
        'invoice_count', 'net_revenue', 'tax_total', 'total_invoiced',
        'payments_received', 'ar_outstanding',
        'transaction_money_in', 'transaction_money_out', 'transaction_income',
        'transaction_expenses',
    ]) }}
{%- endmacro %}

{#- Column type of a figure: a count, or an exact amount (never a float). -#}
{% macro figure_type(figure) -%}
    {{ 'bigint' if figure == 'invoice_count' else 'decimal(38,6)' }}
{%- endmacro %}

{#- Every figure as a column: `values` maps some figures to SQL expressions, the others are 0. -#}
{% macro figure_values(values) -%}
    {%- for figure in month_end_figures() %}
    cast({{ values.get(figure, '0') }} as {{ figure_type(figure) }}) as {{ figure }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Every figure summed over the rows of `relation_alias` (grouped by the caller), 0 when none. -#}
{% macro sum_figures(relation_alias) -%}
    {%- for figure in month_end_figures() %}
    cast(coalesce(sum({{ relation_alias }}.{{ figure }}), 0) as {{ figure_type(figure) }})
        as {{ figure }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
