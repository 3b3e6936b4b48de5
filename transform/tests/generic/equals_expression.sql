{#-
    Arithmetic check: `column_name` equals `expression` (SQL over the same row) exactly, nulls
    included (a null on one side only fails). Fails with one row per mismatch.
-#}
{% test equals_expression(model, column_name, expression) %}

select
    *
from {{ model }}
where {{ column_name }} is distinct from ({{ expression }})

{% endtest %}
