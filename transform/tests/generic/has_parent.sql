{#-
    Every row has its parent row: `key` columns of the model match `parent_key` columns of
    `parent` (same order). Fails with one row per orphan. `relationships` for composite keys.
-#}
{% test has_parent(model, parent, key, parent_key) %}

select
    {% for column in key %}child.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
from {{ model }} as child
where not exists (
    select 1
    from {{ parent }} as parent
    where {% for column in key -%}
        {{ 'and ' if not loop.first }}parent.{{ parent_key[loop.index0] }} = child.{{ column }}
    {% endfor %}
)

{% endtest %}
