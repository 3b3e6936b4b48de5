-- What each document adds to each month-end figure: one row per business, currency, month and
-- document (an invoice, a payment or a transaction). Every figure of month_end_close is the sum
-- of these rows, and closing a month keeps a copy of them (closed_month_documents), so a
-- restatement names the documents whose contribution changed since the close.
--
--   invoice      issued in the month: invoice_count, net_revenue, tax_total, total_invoiced;
--                open at the month end (total less payments dated by then): ar_outstanding
--   payment      dated in the month, on an issued invoice: payments_received
--   transaction  dated in the month: transaction_money_in / _money_out (lines that settle
--                invoices left out, see int_transaction_lines), transaction_income / _expenses
with months as (
    select * from {{ ref('int_close_months') }}
),

invoices_issued as (
    select
        business_id, currency, invoice_month as close_month,
        'invoice' as document_type, invoice_id as document_id, invoice_number as document_number,
        invoice_id,
        {{ figure_values({
            'invoice_count': '1', 'net_revenue': 'subtotal - discount_total',
            'tax_total': 'tax_total', 'total_invoiced': 'total'}) }}
    from {{ ref('int_issued_invoices') }}
),

paid_by_month_end as (
    select
        months.business_id,
        months.currency,
        months.close_month,
        payment.invoice_id,
        sum(payment.amount) as amount_paid
    from months
    inner join {{ ref('int_invoice_payments') }} as payment
        on payment.business_id = months.business_id
        and payment.currency = months.currency
        and payment.payment_date <= months.month_end_date
    group by months.business_id, months.currency, months.close_month, payment.invoice_id
),

open_at_month_end as (
    -- Never below zero: an overpayment is not a receivable.
    select
        months.business_id,
        months.currency,
        months.close_month,
        invoice.invoice_id,
        invoice.invoice_number,
        invoice.total - coalesce(paid.amount_paid, 0) as open_amount
    from months
    inner join {{ ref('int_issued_invoices') }} as invoice
        on invoice.business_id = months.business_id
        and invoice.currency = months.currency
        and invoice.invoice_date <= months.month_end_date
    left join paid_by_month_end as paid
        on paid.business_id = months.business_id
        and paid.currency = months.currency
        and paid.close_month = months.close_month
        and paid.invoice_id = invoice.invoice_id
    where invoice.total - coalesce(paid.amount_paid, 0) > 0
),

receivables as (
    select
        business_id, currency, close_month,
        'invoice' as document_type, invoice_id as document_id, invoice_number as document_number,
        invoice_id,
        {{ figure_values({'ar_outstanding': 'open_amount'}) }}
    from open_at_month_end
),

payments as (
    select
        business_id, currency, payment_month as close_month,
        'payment' as document_type, payment_id as document_id, invoice_number as document_number,
        invoice_id,
        {{ figure_values({'payments_received': 'amount'}) }}
    from {{ ref('int_invoice_payments') }}
),

transactions as (
    select
        business_id, currency, transaction_month as close_month,
        'transaction' as document_type, transaction_id as document_id,
        external_id as document_number,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        {{ figure_values({
            'transaction_money_in': 'money_in', 'transaction_money_out': 'money_out',
            'transaction_income': 'income', 'transaction_expenses': 'expense'}) }}
    from {{ ref('int_transaction_lines') }}
    where not settles_invoices
),

contributions as (
    select * from invoices_issued
    union all
    select * from receivables
    union all
    select * from payments
    union all
    select * from transactions
)

select
    business_id,
    currency,
    close_month,
    document_type,
    document_id,
    document_number,
    invoice_id,
    {{ sum_figures('contributions') }}
from contributions
group by business_id, currency, close_month, document_type, document_id, document_number,
    invoice_id
