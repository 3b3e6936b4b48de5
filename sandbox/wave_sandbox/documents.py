"""The sandbox books' sales documents: invoices (items, item taxes, payments) and estimates,
generated for each business by ``books._BusinessGenerator`` (this is its half that writes them)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from .clock import iso_datetime
from .invoices import item_taxes_at_rates, price_document
from .records import new_invoice, new_item, new_payment
from .store import Books

if TYPE_CHECKING:
    from .books import BookSizes


class SalesDocuments:
    """Invoices and estimates; mixed into the generator, which holds the attributes below."""

    rng: random.Random
    books: Books
    business: dict
    sold_products: list[dict]
    deposit_accounts: list[dict]
    anchor: datetime
    sizes: BookSizes

    def moment(self, after: datetime | None = None, before: datetime | None = None) -> datetime:
        raise NotImplementedError  # the generator's

    def line_items(self, on: date) -> list[dict]:
        rng = self.rng
        items = []
        for product in rng.sample(
            self.sold_products, min(rng.randint(1, 5), len(self.sold_products))
        ):
            quantity = Decimal(rng.choice([1, 1, 1, 2, 3, 4, 5, 10])) + (
                Decimal("0.5") if rng.random() < 0.15 else 0
            )
            unit_price = product["_unit_price"]
            subtotal = quantity * unit_price
            taxes = item_taxes_at_rates(product["defaultSalesTaxes"], subtotal, on)
            items.append(
                new_item(
                    self.books,
                    self.business,
                    product=product,
                    quantity=quantity,
                    unit_price=unit_price,
                    description=None,
                    taxes=taxes,
                )
            )
        return items

    def document_dates(self, count: int) -> list[datetime]:
        return sorted(self.moment() for _ in range(count))

    def make_invoices(self) -> None:
        rng, business = self.rng, self.business
        customers = business["_customers"]
        if not customers or not self.sold_products:
            return
        for number, created in enumerate(self.document_dates(self.sizes.invoices), start=1):
            invoice_date = created.date()
            lifecycle = rng.choices(["DRAFT", "SAVED", "SENT", "VIEWED"], [5, 10, 40, 45])[0]
            invoice = new_invoice(
                self.books,
                business,
                customer=rng.choice(customers),
                number=str(number),
                invoice_date=invoice_date,
                due_date=invoice_date + timedelta(days=rng.choice([0, 15, 30, 30, 45])),
                items=self.line_items(invoice_date),
                lifecycle=lifecycle,
                created_at=iso_datetime(created),
                fields={
                    "poNumber": f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.2 else None,
                    "memo": "Thank you for your business." if rng.random() < 0.3 else None,
                },
            )
            latest = created
            if lifecycle in ("SENT", "VIEWED"):
                sent = self.moment(created, min(created + timedelta(days=3), self.anchor))
                invoice.update(lastSentAt=iso_datetime(sent), lastSentVia="WAVE")
                latest = sent
                if lifecycle == "VIEWED":
                    viewed = self.moment(sent, min(sent + timedelta(days=5), self.anchor))
                    invoice["lastViewedAt"] = iso_datetime(viewed)
            if lifecycle != "DRAFT":
                latest = max(latest, self.pay(invoice, created))
            invoice["modifiedAt"] = iso_datetime(
                self.moment(latest, min(latest + timedelta(hours=2), self.anchor))
            )
            business["_invoices"].append(invoice)

    def pay(self, invoice: dict, created: datetime) -> datetime:
        """Record 0-3 payments; returns the latest payment time (or ``created``)."""
        rng = self.rng
        outcome = rng.choices(["full", "partial", "none", "over"], [60, 12, 27, 1])[0]
        total = invoice["_total"]
        if outcome == "none" or total <= 0:
            return created
        if outcome == "partial":
            amounts = [(total * Decimal(rng.randint(10, 80)) / 100).quantize(Decimal("0.01"))]
        else:
            parts = rng.choice([1, 1, 1, 2, 3])
            share = (total / parts).quantize(Decimal("0.01"))
            amounts = [share] * (parts - 1) + [total - share * (parts - 1)]
            if outcome == "over":
                amounts[-1] += Decimal("10.00")
        latest = created
        for amount in amounts:
            paid_at = self.moment(latest, min(latest + timedelta(days=40), self.anchor))
            new_payment(
                self.books,
                self.business,
                invoice,
                amount=amount,
                payment_date=paid_at.date(),
                method=rng.choice(
                    ["BANK_TRANSFER", "CASH", "CHEQUE", "CREDIT_CARD", "PAYPAL", "OTHER"]
                ),
                account=rng.choice(self.deposit_accounts),
                created_at=iso_datetime(paid_at),
            )
            latest = paid_at
        price_document(invoice)
        return latest

    def make_estimates(self) -> None:
        rng, business, books = self.rng, self.business, self.books
        customers = business["_customers"]
        if not customers or not self.sold_products:
            return
        for number, created in enumerate(self.document_dates(self.sizes.estimates), start=1):
            estimate_date = created.date()
            lifecycle = rng.choices(
                ["DRAFT", "SENT", "VIEWED", "ACCEPTED", "REJECTED", "CONVERTED"],
                [10, 25, 20, 25, 5, 15],
            )[0]
            record_id = books.new_id(business, "Estimate")
            estimate = {
                "id": record_id,
                "business": business,
                "customer": rng.choice(customers),
                "currency": business["currency"],
                "exchangeRate": "1",
                "title": "Estimate",
                "subhead": None,
                "estimateNumber": str(number),
                "poNumber": None,
                "estimateDate": estimate_date.isoformat(),
                "_estimate_date": estimate_date,
                "_due_date": estimate_date + timedelta(days=rng.choice([14, 30, 60])),
                "memo": None,
                "footer": None,
                "createdAt": iso_datetime(created),
                "modifiedAt": iso_datetime(
                    self.moment(created, min(created + timedelta(days=7), self.anchor))
                ),
                "lastSentAt": None,
                "lastSentVia": None,
                "lastViewedAt": None,
                "pdfUrl": f"https://sandbox.waveapps.test/estimates/{record_id[-10:]}/pdf",
                "viewUrl": f"https://sandbox.waveapps.test/estimates/{record_id[-10:]}",
                "depositStatus": "DISABLED",
                "depositUnit": None,
                "depositValue": None,
                "depositPaymentStatus": None,
                "dontCarryOverNotesToInvoice": False,
                "items": self.line_items(estimate_date),
                "discounts": [],
                "payments": [],
                "attachments": [],
                "history": [],
                "_lifecycle": lifecycle,
                "disableCreditCardPayments": False,
                "disableBankPayments": False,
                "disableAmexPayments": False,
                "requireTermsOfServiceAgreement": False,
                "itemTitle": "Items",
                "unitTitle": "Quantity",
                "priceTitle": "Price",
                "amountTitle": "Amount",
                "hideName": False,
                "hideDescription": False,
                "hideUnit": False,
                "hidePrice": False,
                "hideAmount": False,
            }
            estimate["dueDate"] = estimate["_due_date"].isoformat()
            if lifecycle not in ("DRAFT",):
                estimate.update(lastSentAt=estimate["createdAt"], lastSentVia="WAVE")
            price_document(estimate)
            estimate["depositTotal"] = estimate["amountPaid"]
            business["_estimates"].append(books.index(estimate))
