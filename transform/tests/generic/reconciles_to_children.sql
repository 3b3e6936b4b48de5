{#-
    Reconciliation: each parent row's `column_name` equals the sum of `children_column` over its
    child rows, exactly (tolerance 0; a parent without children must hold 0).
    `parent_key` and `child_key` list the joining columns in the same order.
    Fails with one row per parent that does not reconcile.
-#}
{% test reconciles_to_children(model, column_name, children, children_column, parent_key, child_key) %}

with children_sums as (
    select
        {% for column in child_key %}{{ column }} as key_{{ loop.index }}, {% endfor %}
        sum({{ children_column }}) as children_sum
    from {{ children }}
    group by {{ child_key | join(', ') }}
)

select
    {% for column in parent_key %}parent.{{ column }}, {% endfor %}
    parent.{{ column_name }} as parent_value,
    coalesce(children_sums.children_sum, 0) as children_sum
from {{ model }} as parent
left join children_sums
    on {% for column in parent_key -%}
        {{ 'and ' if not loop.first }}children_sums.key_{{ loop.index }} = parent.{{ column }}
    {% endfor %}
where parent.{{ column_name }} is distinct from coalesce(children_sums.children_sum, 0)

{% endtest %}
