"""Seeded generation of realistic, internally consistent books for each sandbox business.

Everything comes from ``random.Random(seed)`` and the clock's start day, so the same seed on the
same ``--now`` day gives the same books. Per business: a chart of accounts, sales taxes with rate
history (each with its liability account), products with default taxes, customers with addresses
and shipping details, vendors, estimates, and invoices with 1-5 items, item taxes and payments.
Timestamps spread over the year before the start day.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from .clock import SandboxClock, iso_datetime
from .ids import encode_business_id
from .invoices import item_taxes_at_rates, price_document
from .records import address, new_contact, new_invoice, new_item, new_payment, new_product
from .reference import ACCOUNT_SUBTYPES, ACCOUNT_TYPES, CURRENCIES
from .store import Books
from .wordlists import (
    BUSINESS_PROFILES,
    CHART_OF_ACCOUNTS,
    CITIES,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_NAMES,
    SALES_TAXES,
    STREETS,
)


@dataclass(frozen=True)
class BookSizes:
    """How many records of each kind every business gets."""

    customers: int = 300
    vendors: int = 40
    products: int = 60
    invoices: int = 2000
    estimates: int = 300


def generate_books(clock: SandboxClock, businesses: int, seed: int, sizes: BookSizes) -> Books:
    books = Books(clock)
    anchor = datetime.combine(clock.start.date(), time(), tzinfo=UTC)  # start-day midnight
    rng = random.Random(seed)
    names = random.Random(seed).sample(COMPANY_WORDS, len(COMPANY_WORDS))  # distinct per business
    for index in range(businesses):
        _BusinessGenerator(
            books,
            random.Random(rng.getrandbits(64)),
            anchor,
            index,
            sizes,
            name_word=names[index % len(names)],
        ).run()
    return books


class _BusinessGenerator:
    def __init__(
        self,
        books: Books,
        rng: random.Random,
        anchor: datetime,
        index: int,
        sizes: BookSizes,
        name_word: str,
    ) -> None:
        self.books, self.rng, self.anchor, self.index, self.sizes = books, rng, anchor, index, sizes
        self.name_word = name_word
        self.year_ago = anchor - timedelta(days=365)

    # -- helpers --------------------------------------------------------------------------
    def moment(self, after: datetime | None = None, before: datetime | None = None) -> datetime:
        low = after or self.year_ago
        high = before or self.anchor - timedelta(minutes=1)
        span = max(int((high - low).total_seconds() * 1000), 1)
        return low + timedelta(milliseconds=self.rng.randrange(span))

    def phone(self) -> str:
        return f"+1-{self.rng.randint(200, 989)}-555-{self.rng.randint(1000, 9999)}"

    def street_address(self, country: str) -> dict:
        city, province, postal = self.rng.choice(CITIES[country])
        line2 = f"Suite {self.rng.randint(100, 990)}" if self.rng.random() < 0.3 else None
        street = f"{self.rng.randint(1, 9999)} {self.rng.choice(STREETS)}"
        return address(street, line2, city, province, country, postal)

    # -- the business -------------------------------------------------------------------
    def run(self) -> None:
        rng = self.rng
        profile = BUSINESS_PROFILES[self.index % len(BUSINESS_PROFILES)]
        business_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        created = self.moment(self.year_ago - timedelta(days=900), self.year_ago)
        rng.choice(COMPANY_WORDS)  # keeps the seeded sequence (and so the books) as it was
        name = f"{self.name_word} {profile['suffix']}"
        self.country = profile["country"]
        business = {
            "id": encode_business_id(business_uuid),
            "_uuid": business_uuid,
            "name": name,
            "isPersonal": False,
            "organizationalType": profile["organizational_type"],
            "type": {"name": profile["type_name"], "value": profile["type"]},
            "subtype": {"name": profile["subtype_name"], "value": profile["subtype"]},
            "currency": CURRENCIES[profile["currency"]],
            "timezone": profile["timezone"],
            "address": self.street_address(self.country),
            "phone": self.phone(),
            "fax": None,
            "mobile": self.phone(),
            "tollFree": None,
            "website": f"https://{name.lower().replace(' ', '')}.example",
            "isClassicAccounting": False,
            "isClassicInvoicing": False,
            "isArchived": False,
            "createdAt": iso_datetime(created),
            "modifiedAt": iso_datetime(self.moment(created)),
            "emailSendEnabled": True,
            "invoiceEstimateSettings": {
                "generalSettings": {"accentColor": "#2E6DB4", "logoUrl": None}
            },
            "_next_number": rng.randint(10_000_000, 90_000_000),
            "_balances": None,
            "_customers": [],
            "_vendors": [],
            "_products": [],
            "_accounts": [],
            "_sales_taxes": [],
            "_invoices": [],
            "_estimates": [],
            "_transactions": [],
        }
        self.business = business
        self.books.add_business(business)
        self.make_accounts()
        self.make_sales_taxes(profile["sales_taxes"])
        self.make_products()
        self.make_contacts("Customer", "_customers", self.sizes.customers)
        self.make_contacts("Vendor", "_vendors", self.sizes.vendors)
        self.make_invoices()
        self.make_estimates()

    def account(self, name: str, subtype: str, archived: bool = False) -> dict:
        business = self.business
        subtype_record = ACCOUNT_SUBTYPES[subtype]
        type_record = ACCOUNT_TYPES[subtype_record["type"]["value"]]
        record_id = self.books.new_id(business, "Account")
        record = {
            "id": record_id,
            "business": business,
            "classicId": str(business["_next_number"]),
            "name": name,
            "description": None,
            "displayId": None,
            "currency": business["currency"],
            "type": type_record,
            "subtype": subtype_record,
            "normalBalanceType": type_record["normalBalanceType"],
            "isArchived": archived,
            "sequence": 1,
        }
        business["_accounts"].append(self.books.index(record))
        return record

    def make_accounts(self) -> None:
        for name, subtype, archived in CHART_OF_ACCOUNTS:
            self.account(name, subtype, archived)
        accounts = self.business["_accounts"]
        self.income_accounts = [
            a for a in accounts if a["subtype"]["value"] == "INCOME" and not a["isArchived"]
        ]
        self.expense_accounts = [
            a for a in accounts if a["subtype"]["value"] in ("EXPENSE", "COST_OF_GOODS_SOLD")
        ]
        self.deposit_accounts = [a for a in accounts if a["subtype"]["value"] == "CASH_AND_BANK"]

    def make_sales_taxes(self, specs: list[str]) -> None:
        business = self.business
        for key in specs:
            name, abbreviation, history, archived = SALES_TAXES[key]
            created = self.moment(self.year_ago - timedelta(days=400), self.year_ago)
            rates = [(date.fromisoformat(d), Decimal(r)) for d, r in history]
            record = {
                "id": self.books.new_id(business, "SalesTax"),
                "business": business,
                "name": name,
                "abbreviation": abbreviation,
                "description": None,
                "taxNumber": f"{self.rng.randint(100000000, 999999999)}RT0001",
                "showTaxNumberOnInvoices": self.rng.random() < 0.5,
                "rates": [{"effective": d.isoformat(), "rate": str(r)} for d, r in rates],
                "_rates": rates,
                "isCompound": False,
                "isRecoverable": True,
                "isArchived": archived,
                "createdAt": iso_datetime(created),
                "modifiedAt": iso_datetime(self.moment(created)),
                "_account": self.account(f"{abbreviation} Payable", "SALES_TAX"),
            }
            record["internalId"] = record["id"][-8:]
            business["_sales_taxes"].append(self.books.index(record))
        self.active_taxes = [t for t in business["_sales_taxes"] if not t["isArchived"]]

    def make_products(self) -> None:
        rng = self.rng
        for n in range(self.sizes.products):
            base, low, high = PRODUCT_NAMES[n % len(PRODUCT_NAMES)]
            edition = n // len(PRODUCT_NAMES)
            created = self.moment()
            bought = rng.random() < 0.25
            product = new_product(
                self.books,
                self.business,
                name=base if edition == 0 else f"{base} ({edition + 1})",
                unit_price=Decimal(rng.randrange(low * 50, high * 50)) / 50,
                description=f"{base} - standard rate" if rng.random() < 0.7 else None,
                income_account=rng.choice(self.income_accounts),
                expense_account=rng.choice(self.expense_accounts) if bought else None,
                sales_taxes=rng.sample(self.active_taxes, rng.randint(0, len(self.active_taxes))),
                created_at=iso_datetime(created),
                modified_at=iso_datetime(self.moment(created)),
                is_archived=rng.random() < 0.1,
            )
            self.business["_products"].append(product)
        self.sold_products = [p for p in self.business["_products"] if p["isSold"]]

    def make_contacts(self, type_name: str, collection: str, count: int) -> None:
        rng = self.rng
        for n in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = rng.random() < 0.5
            name = f"{last} {rng.choice(COMPANY_WORDS)}" if company else f"{first} {last}"
            where = self.street_address(self.country)
            created = self.moment()
            fields = {
                "name": name,
                "firstName": first,
                "lastName": last,
                "displayId": f"{type_name[0]}-{n + 1:05d}",
                "email": f"{first}.{last}{n}@example.com".lower(),
                "phone": self.phone(),
                "mobile": self.phone() if rng.random() < 0.5 else None,
                "website": f"https://{last.lower()}{n}.example" if company else None,
                "internalNotes": "Prefers email" if rng.random() < 0.2 else None,
                "address": where,
                "shippingDetails": {
                    "name": name,
                    "address": where,
                    "phone": self.phone(),
                    "instructions": rng.choice([None, "Leave at front desk", "Call on arrival"]),
                },
            }
            contact = new_contact(
                self.books,
                self.business,
                type_name,
                fields,
                iso_datetime(created),
                iso_datetime(self.moment(created)),
            )
            self.business[collection].append(contact)

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
