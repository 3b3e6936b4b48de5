"""Changing a Wave sandbox's books through its GraphQL mutations (the ones Wave's API has).

Used by the webhook tests and the latency benchmark: each change is a real mutation, so the
sandbox stamps `modifiedAt` and, when started with `--webhook-url`, sends the matching signed
webhook. `BusinessChanges(sandbox, business_id)` looks up what a change needs (a bank account, an
income account, a customer, a product, a sales tax) once, on first use.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, Protocol

REFERENCES = """query($b: ID!) { business(id: $b) {
  accounts(pageSize: 200) { edges { node { id type { value } subtype { value } } } }
  customers(pageSize: 1) { edges { node { id } } }
  products(pageSize: 20) { edges { node { id isSold } } }
  salesTaxes(pageSize: 1) { edges { node { id } } } } }"""


class GraphQLClient(Protocol):
    """What changes need of a sandbox: `WaveSandbox.graphql` (the answer's JSON, errors kept)."""

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


class MutationFailed(AssertionError):
    """The sandbox refused a change: GraphQL errors, or didSucceed false with inputErrors."""


class BusinessChanges:
    """Real mutations on one business of a Wave sandbox (anything with `.graphql(q, vars)`)."""

    def __init__(self, sandbox: GraphQLClient, business_id: str) -> None:
        self.sandbox = sandbox
        self.business_id = business_id

    def mutate(
        self, field: str, input_type: str, payload: dict[str, Any], returning: str = ""
    ) -> dict[str, Any]:
        """Run `field(input:)`; return its output, or raise MutationFailed saying why."""
        document = (
            f"mutation($input: {input_type}!) {{ {field}(input: $input) "
            f"{{ didSucceed inputErrors {{ path message code }} {returning} }} }}"
        )
        answer = self.sandbox.graphql(document, {"input": payload})
        if answer.get("errors"):
            raise MutationFailed(f"{field}: {answer['errors']}")
        result: dict[str, Any] = answer["data"][field]
        if not result["didSucceed"]:
            raise MutationFailed(f"{field}: {result['inputErrors']}")
        return result

    @functools.cached_property
    def references(self) -> dict[str, str]:
        """Ids a change can point at: cash, income, expense, receivable (Accounts Receivable),
        customer, product, sales_tax."""
        answer = self.sandbox.graphql(REFERENCES, {"b": self.business_id})
        if answer.get("errors"):
            raise MutationFailed(f"reading references: {answer['errors']}")
        business = answer["data"]["business"]
        accounts = [edge["node"] for edge in business["accounts"]["edges"]]
        products = [edge["node"] for edge in business["products"]["edges"]]
        return {
            "cash": next(a["id"] for a in accounts if a["subtype"]["value"] == "CASH_AND_BANK"),
            "income": next(a["id"] for a in accounts if a["type"]["value"] == "INCOME"),
            "expense": next(a["id"] for a in accounts if a["subtype"]["value"] == "EXPENSE"),
            "receivable": next(
                a["id"] for a in accounts if a["subtype"]["value"] == "RECEIVABLE_INVOICES"
            ),
            "customer": business["customers"]["edges"][0]["node"]["id"],
            "product": next(p["id"] for p in products if p["isSold"]),
            "sales_tax": business["salesTaxes"]["edges"][0]["node"]["id"],
        }

    # -- customers and products ------------------------------------------------------------

    def create_customer(self, name: str) -> str:
        created: str = self.mutate(
            "customerCreate",
            "CustomerCreateInput",
            {"businessId": self.business_id, "name": name},
            "customer { id }",
        )["customer"]["id"]
        return created

    def delete_customer(self, customer_id: str) -> None:
        self.mutate("customerDelete", "CustomerDeleteInput", {"id": customer_id})

    def archive_product(self, product_id: str) -> None:
        self.mutate("productArchive", "ProductArchiveInput", {"id": product_id})

    # -- invoices and payments -------------------------------------------------------------

    def create_invoice(
        self,
        unit_price: str = "100.00",
        quantity: str = "2",
        customer_id: str | None = None,
        status: str = "SAVED",
        invoice_date: str | None = None,
    ) -> str:
        """A new invoice with one line (approved unless `status` says DRAFT), dated
        `invoice_date` (YYYY-MM-DD; default: the sandbox's today)."""
        item = {
            "productId": self.references["product"],
            "quantity": quantity,
            "unitPrice": unit_price,
        }
        payload = {
            "businessId": self.business_id,
            "status": status,
            "customerId": customer_id or self.references["customer"],
            "items": [item],
        }
        if invoice_date:
            payload["invoiceDate"] = invoice_date
        answer = self.mutate("invoiceCreate", "InvoiceCreateInput", payload, "invoice { id }")
        created: str = answer["invoice"]["id"]
        return created

    def patch_invoice(self, invoice_id: str, **changes: Any) -> None:
        self.mutate("invoicePatch", "InvoicePatchInput", {"id": invoice_id, **changes})

    def pay_invoice(self, invoice_id: str, amount: str, payment_date: str = "2026-11-20") -> str:
        created: str = self.mutate(
            "invoicePaymentCreateManual",
            "InvoicePaymentCreateManualInput",
            {
                "invoiceId": invoice_id,
                "paymentAccountId": self.references["cash"],
                "amount": amount,
                "paymentDate": payment_date,
                "paymentMethod": "BANK_TRANSFER",
                "exchangeRate": "1",
            },
            "invoicePayment { id }",
        )["invoicePayment"]["id"]
        return created

    def delete_payment(self, payment_id: str) -> None:
        self.mutate("invoicePaymentDelete", "InvoicePaymentDeleteInput", {"id": payment_id})

    def delete_invoice(self, invoice_id: str) -> None:
        self.mutate("invoiceDelete", "InvoiceDeleteInput", {"invoiceId": invoice_id})

    # -- money transactions ----------------------------------------------------------------

    def create_transaction(
        self,
        amount: str = "120.50",
        tax: str | None = "13.86",
        external_id: str | None = None,
        *,
        date: str = "2026-11-28",
        direction: str = "DEPOSIT",
        category: str = "income",
        balance: str = "INCREASE",
        customer_id: str | None = None,
        description: str = "Card sale",
        line_description: str = "Sale",
        account_id: str | None = None,
    ) -> str:
        """A transaction on the bank account with one line: by default a card sale (a deposit,
        categorised to income, carrying one sales tax; `tax=None` for none). The line goes to
        `account_id`, else to the reference account `category` names (income, expense,
        receivable, ...); `direction` is DEPOSIT or WITHDRAWAL."""
        external_id = external_id or f"pos-{uuid.uuid4().hex[:12]}"
        line = {
            "accountId": account_id or self.references[category],
            "amount": amount,
            "balance": balance,
            "description": line_description,
            "customerId": customer_id,
            "taxes": []
            if tax is None
            else [{"salesTaxId": self.references["sales_tax"], "amount": tax}],
        }
        created: str = self.mutate(
            "moneyTransactionCreate",
            "MoneyTransactionCreateInput",
            {
                "businessId": self.business_id,
                "externalId": external_id,
                "date": date,
                "description": description,
                "anchor": {
                    "accountId": self.references["cash"],
                    "amount": amount,
                    "direction": direction,
                },
                "lineItems": [line],
            },
            "transaction { id }",
        )["transaction"]["id"]
        return created
