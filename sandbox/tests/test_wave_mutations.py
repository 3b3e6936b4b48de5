"""Each mutation changes the books and delivers its signed webhook to a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal

import pytest
from wave_sandbox.testing import start_wave_sandbox

SECRET = "whsec-test-current"
OLD_SECRET = "whsec-test-previous"


def data_of(answer: dict) -> dict:
    assert not answer.get("errors"), answer.get("errors")
    return answer["data"]


def verify_signature(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """docs/webhooks.md, computed here independently: v1 = HMAC-SHA256(secret, b"<t>." + body)."""
    pairs = [part.split("=", 1) for part in header.split(",")]
    timestamp = int(next(value for key, value in pairs if key == "t"))
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in pairs)


@pytest.fixture(scope="module")
def receiver(webhook_receiver_class):
    receiver = webhook_receiver_class(
        fail_first=1
    )  # the first delivery fails: retries must recover
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def sandbox(receiver):
    with start_wave_sandbox(
        businesses=1,
        seed=11,
        customers=8,
        vendors=2,
        products=6,
        invoices=10,
        estimates=2,
        webhook_url=receiver.url,
        webhook_secret=[SECRET, OLD_SECRET],
    ) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def business(sandbox):
    business_id = sandbox.business_ids()[0]
    answer = data_of(
        sandbox.graphql(
            "query($b: ID!) { business(id: $b) { id "
            "accounts(pageSize: 100) { edges { node { id name type { value } subtype { value } } } } "
            "salesTaxes { edges { node { id rate } } } "
            "products(pageSize: 100) { edges { node { id unitPrice defaultSalesTaxes { id } } } } "
            "customers(pageSize: 100) { edges { node { id } } } } }",
            {"b": business_id},
        )
    )
    business = answer["business"]
    accounts = [e["node"] for e in business["accounts"]["edges"]]
    return {
        "id": business_id,
        "cash": next(a["id"] for a in accounts if a["subtype"]["value"] == "CASH_AND_BANK"),
        "income": next(a["id"] for a in accounts if a["type"]["value"] == "INCOME"),
        "tax": business["salesTaxes"]["edges"][0]["node"],
        "product": business["products"]["edges"][0]["node"],
        "customer": business["customers"]["edges"][0]["node"]["id"],
    }


def delivered(receiver, event_type: str, entity_id: str) -> dict:
    """The webhook for (type, entity), after checking its signature and body shape."""
    (event,) = receiver.wait_for(lambda e: e["type"] == event_type and e["data"]["id"] == entity_id)
    raw = next(
        r
        for r in receiver.requests
        if r["body"].find(event["id"].encode()) >= 0
        and r["headers"].get("Content-Type") == "application/json"
    )
    header = raw["headers"]["x-wave-signature"]
    assert verify_signature(header, raw["body"], SECRET)
    assert verify_signature(header, raw["body"], OLD_SECRET)
    assert not verify_signature(header, raw["body"], "some-other-secret")
    assert set(event) == {"id", "type", "createdAt", "businessId", "data"}
    assert event["id"].startswith("evt_") and event["createdAt"].endswith("Z")
    return event


def mutate(sandbox, document: str, variables: dict, payload: str) -> dict:
    result = data_of(sandbox.graphql(document, variables))[payload]
    assert result["didSucceed"], result["inputErrors"]
    assert result["inputErrors"] == []
    return result


CUSTOMER = "id name email modifiedAt address { city country { code } }"


def test_customer_create_patch_delete(sandbox, business, receiver):
    created = mutate(
        sandbox,
        f"""mutation($input: CustomerCreateInput!) {{
        customerCreate(input: $input) {{ didSucceed inputErrors {{ path message code }}
        customer {{ {CUSTOMER} }} }} }}""",
        {
            "input": {
                "businessId": business["id"],
                "name": "Webhook Test Ltd",
                "email": "ap@webhook.test",
                "address": {"city": "Ottawa", "countryCode": "CA", "provinceCode": "CA-ON"},
            }
        },
        "customerCreate",
    )["customer"]
    assert created["address"] == {"city": "Ottawa", "country": {"code": "CA"}}
    event = delivered(receiver, "customer.created", created["id"])
    assert event["businessId"] == business["id"]

    patched = mutate(
        sandbox,
        f"""mutation($input: CustomerPatchInput!) {{
        customerPatch(input: $input) {{ didSucceed inputErrors {{ path }}
        customer {{ {CUSTOMER} }} }} }}""",
        {"input": {"id": created["id"], "name": "Renamed"}},
        "customerPatch",
    )["customer"]
    assert patched["name"] == "Renamed" and patched["email"] == "ap@webhook.test"
    assert patched["modifiedAt"] > created["modifiedAt"]
    delivered(receiver, "customer.updated", created["id"])

    mutate(
        sandbox,
        """mutation($input: CustomerDeleteInput!) {
        customerDelete(input: $input) { didSucceed inputErrors { path } } }""",
        {"input": {"id": created["id"]}},
        "customerDelete",
    )
    delivered(receiver, "customer.deleted", created["id"])
    gone = sandbox.graphql(
        "query($b: ID!, $c: ID!) { business(id: $b) { customer(id: $c) { id } } }",
        {"b": business["id"], "c": created["id"]},
    )
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_customer_with_invoices_cannot_be_deleted(sandbox, business):
    answer = data_of(
        sandbox.graphql(
            """mutation($input: CustomerDeleteInput!) {
        customerDelete(input: $input) { didSucceed inputErrors { path message code } } }""",
            {"input": {"id": business["customer"]}},
        )
    )["customerDelete"]
    assert answer["didSucceed"] is False
    assert answer["inputErrors"][0]["path"] == ["input", "id"]


PRODUCT = (
    "id name unitPrice isArchived isSold modifiedAt incomeAccount { id } defaultSalesTaxes { id }"
)


def test_product_create_patch_archive(sandbox, business, receiver):
    created = mutate(
        sandbox,
        f"""mutation($input: ProductCreateInput!) {{
        productCreate(input: $input) {{ didSucceed inputErrors {{ path }}
        product {{ {PRODUCT} }} }} }}""",
        {
            "input": {
                "businessId": business["id"],
                "name": "Gizmo",
                "unitPrice": "19.99",
                "incomeAccountId": business["income"],
                "defaultSalesTaxIds": [business["tax"]["id"]],
            }
        },
        "productCreate",
    )["product"]
    assert created["unitPrice"] == "19.99" and created["isSold"] is True
    assert created["defaultSalesTaxes"] == [{"id": business["tax"]["id"]}]
    delivered(receiver, "product.created", created["id"])

    patched = mutate(
        sandbox,
        f"""mutation($input: ProductPatchInput!) {{
        productPatch(input: $input) {{ didSucceed inputErrors {{ path }}
        product {{ {PRODUCT} }} }} }}""",
        {"input": {"id": created["id"], "unitPrice": "25"}},
        "productPatch",
    )["product"]
    assert patched["unitPrice"] == "25.00" and patched["modifiedAt"] > created["modifiedAt"]
    delivered(receiver, "product.updated", created["id"])

    archived = mutate(
        sandbox,
        f"""mutation($input: ProductArchiveInput!) {{
        productArchive(input: $input) {{ didSucceed inputErrors {{ path }}
        product {{ {PRODUCT} }} }} }}""",
        {"input": {"id": created["id"]}},
        "productArchive",
    )["product"]
    assert archived["isArchived"] is True
    delivered(receiver, "product.archived", created["id"])
    listed = data_of(
        sandbox.graphql(
            "query($b: ID!) { business(id: $b) { products(pageSize: "
            "100) { edges { node { id } } } } }",
            {"b": business["id"]},
        )
    )
    assert created["id"] not in {e["node"]["id"] for e in listed["business"]["products"]["edges"]}


INVOICE = (
    "id status invoiceNumber modifiedAt lastSentAt lastSentVia subtotal { value } "
    "taxTotal { value } total { value } amountPaid { value } amountDue { value } "
    "items { id quantity unitPrice subtotal { value } taxes { amount { value } "
    "salesTax { id } } } payments { id amount }"
)


def test_invoice_lifecycle_with_payments(sandbox, business, receiver):
    product, tax = business["product"], business["tax"]
    created = mutate(
        sandbox,
        f"""mutation($input: InvoiceCreateInput!) {{
        invoiceCreate(input: $input) {{ didSucceed inputErrors {{ path message }}
        invoice {{ {INVOICE} }} }} }}""",
        {
            "input": {
                "businessId": business["id"],
                "customerId": business["customer"],
                "invoiceDate": "2026-01-10",
                "dueDate": "2099-02-09",
                "items": [
                    {
                        "productId": product["id"],
                        "quantity": "3",
                        "unitPrice": "10.00",
                        "taxes": [{"salesTaxId": tax["id"]}],
                    }
                ],
            }
        },
        "invoiceCreate",
    )["invoice"]
    assert created["status"] == "DRAFT"
    assert created["subtotal"]["value"] == "30.00"
    expected_tax = (Decimal("30.00") * Decimal(tax["rate"])).quantize(Decimal("0.01"))
    assert Decimal(created["taxTotal"]["value"]) == expected_tax
    assert Decimal(created["total"]["value"]) == Decimal("30.00") + expected_tax
    delivered(receiver, "invoice.created", created["id"])
    invoice_id = created["id"]

    patched = mutate(
        sandbox,
        f"""mutation($input: InvoicePatchInput!) {{
        invoicePatch(input: $input) {{ didSucceed inputErrors {{ path }}
        invoice {{ {INVOICE} }} }} }}""",
        {
            "input": {
                "id": invoice_id,
                "items": [
                    {"productId": product["id"], "quantity": "2", "unitPrice": "50.00", "taxes": []}
                ],
            }
        },
        "invoicePatch",
    )["invoice"]
    assert patched["total"]["value"] == "100.00" and patched["modifiedAt"] > created["modifiedAt"]
    delivered(receiver, "invoice.updated", invoice_id)

    refused = data_of(
        sandbox.graphql(
            """mutation($input: InvoiceSendInput!) {
        invoiceSend(input: $input) { didSucceed inputErrors { path message code } } }""",
            {"input": {"invoiceId": invoice_id, "to": ["client@example.com"]}},
        )
    )["invoiceSend"]
    assert refused["didSucceed"] is False  # a draft must be approved first

    approved = mutate(
        sandbox,
        f"""mutation($input: InvoiceApproveInput!) {{
        invoiceApprove(input: $input) {{ didSucceed inputErrors {{ path }}
        invoice {{ {INVOICE} }} }} }}""",
        {"input": {"invoiceId": invoice_id}},
        "invoiceApprove",
    )["invoice"]
    assert approved["status"] == "SAVED"
    delivered(receiver, "invoice.approved", invoice_id)

    sent = mutate(
        sandbox,
        f"""mutation($input: InvoiceSendInput!) {{
        invoiceSend(input: $input) {{ didSucceed inputErrors {{ path }}
        invoice {{ {INVOICE} }} }} }}""",
        {"input": {"invoiceId": invoice_id, "to": ["client@example.com"]}},
        "invoiceSend",
    )["invoice"]
    assert sent["status"] == "SENT" and sent["lastSentVia"] == "WAVE" and sent["lastSentAt"]
    delivered(receiver, "invoice.sent", invoice_id)

    payment_doc = """mutation($input: InvoicePaymentCreateManualInput!) {
        invoicePaymentCreateManual(input: $input) { didSucceed inputErrors { path message }
        invoicePayment { id amount invoice { id status amountDue { value } } } } }"""
    first = mutate(
        sandbox,
        payment_doc,
        {
            "input": {
                "invoiceId": invoice_id,
                "paymentAccountId": business["cash"],
                "amount": "40.00",
                "paymentDate": "2026-01-20",
                "paymentMethod": "CHEQUE",
                "exchangeRate": "1",
            }
        },
        "invoicePaymentCreateManual",
    )["invoicePayment"]
    assert first["invoice"]["status"] == "PARTIAL"
    assert first["invoice"]["amountDue"]["value"] == "60.00"
    event = delivered(receiver, "payment.created", first["id"])
    assert event["data"]["object"]["invoiceId"] == invoice_id

    patched_payment = mutate(
        sandbox,
        """mutation($input: InvoicePaymentPatchInput!) {
        invoicePaymentPatch(input: $input) { didSucceed inputErrors { path }
        invoicePayment { id amount invoice { status amountDue { value } } } } }""",
        {"input": {"id": first["id"], "amount": "100.00"}},
        "invoicePaymentPatch",
    )["invoicePayment"]
    assert patched_payment["invoice"]["status"] == "PAID"
    delivered(receiver, "payment.updated", first["id"])
    delivered(receiver, "invoice.paid", invoice_id)

    mutate(
        sandbox,
        """mutation($input: InvoicePaymentDeleteInput!) {
        invoicePaymentDelete(input: $input) { didSucceed inputErrors { path } } }""",
        {"input": {"id": first["id"]}},
        "invoicePaymentDelete",
    )
    delivered(receiver, "payment.deleted", first["id"])
    after = data_of(
        sandbox.graphql(
            f"query($b: ID!, $i: ID!) {{ business(id: $b) {{ invoice(id: $i) {{ {INVOICE} }} }} }}",
            {"b": business["id"], "i": invoice_id},
        )
    )
    assert after["business"]["invoice"]["payments"] == []
    assert after["business"]["invoice"]["amountDue"]["value"] == "100.00"

    mutate(
        sandbox,
        """mutation($input: InvoiceDeleteInput!) {
        invoiceDelete(input: $input) { didSucceed inputErrors { path } } }""",
        {"input": {"invoiceId": invoice_id}},
        "invoiceDelete",
    )
    delivered(receiver, "invoice.deleted", invoice_id)
    gone = sandbox.graphql(
        "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id } } }",
        {"b": business["id"], "i": invoice_id},
    )
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_money_transaction_create_sends_the_whole_transaction(sandbox, business, receiver):
    variables = {
        "input": {
            "businessId": business["id"],
            "externalId": "pos-0042",
            "date": "2026-01-15",
            "description": "Card sale",
            "anchor": {"accountId": business["cash"], "amount": "120.50", "direction": "DEPOSIT"},
            "lineItems": [
                {
                    "accountId": business["income"],
                    "amount": "120.50",
                    "balance": "INCREASE",
                    "description": "Sale",
                    "taxes": [{"salesTaxId": business["tax"]["id"], "amount": "13.86"}],
                }
            ],
        }
    }
    document = """mutation($input: MoneyTransactionCreateInput!) {
        moneyTransactionCreate(input: $input) { didSucceed inputErrors { path message code }
        transaction { id } } }"""
    transaction = mutate(sandbox, document, variables, "moneyTransactionCreate")["transaction"]
    event = delivered(receiver, "transaction.created", transaction["id"])
    obj = event["data"]["object"]
    assert obj["externalId"] == "pos-0042" and obj["date"] == "2026-01-15"
    assert obj["anchor"] == {
        "accountId": business["cash"],
        "amount": "120.50",
        "direction": "DEPOSIT",
    }
    assert obj["lineItems"][0]["taxes"] == [
        {"salesTaxId": business["tax"]["id"], "amount": "13.86"}
    ]
    again = data_of(sandbox.graphql(document, variables))["moneyTransactionCreate"]
    assert again["didSucceed"] is False and again["inputErrors"][0]["code"] == "DUPLICATE"


def test_failed_delivery_is_retried(sandbox, receiver):
    # Deliveries are asynchronous and the receiver records a request before the sandbox counts it
    # delivered: compare once the queue is empty and the last delivery is counted.
    deadline = time.monotonic() + 10
    while True:
        ids = [e["id"] for e in receiver.events()]
        stats = sandbox.stats()["webhooks"]
        if (
            stats["pending"] == 0 and len(set(ids)) == stats["delivered"]
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert stats["failed_attempts"] >= 1  # the receiver refused the first delivery
    assert stats["gave_up"] == 0
    assert len(set(ids)) == stats["delivered"]  # every event arrived, one retried
    # GET /sandbox/webhooks lists exactly those events, in order, each delivered; the refused
    # first delivery shows as a second attempt
    emitted = sandbox.webhooks()
    assert [e["id"] for e in emitted] == list(dict.fromkeys(ids))
    assert all(e["delivered"] for e in emitted)
    assert emitted[0]["attempts"] == 2 and {e["attempts"] for e in emitted[1:]} <= {1}
    bodies = {e["id"]: e for e in receiver.events()}
    assert all(
        (e["type"], e["businessId"], e["entityId"])
        == (bodies[e["id"]]["type"], bodies[e["id"]]["businessId"], bodies[e["id"]]["data"]["id"])
        for e in emitted
    )


def test_bad_input_changes_nothing(sandbox, business):
    answer = data_of(
        sandbox.graphql(
            """mutation($input: InvoiceCreateInput!) {
        invoiceCreate(input: $input) { didSucceed inputErrors { path message code } invoice { id } } }""",
            {
                "input": {
                    "businessId": business["id"],
                    "customerId": business["customer"],
                    "items": [{"productId": "bm9wZQ==", "quantity": "1"}],
                }
            },
        )
    )["invoiceCreate"]
    assert answer == {
        "didSucceed": False,
        "invoice": None,
        "inputErrors": [
            {
                "path": ["input", "items", "0", "productId"],
                "message": "Product 'bm9wZQ==' could not be found in this business.",
                "code": "NOT_FOUND",
            }
        ],
    }
