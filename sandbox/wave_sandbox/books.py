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
from .documents import SalesDocuments
from .ids import encode_business_id
from .records import address, new_contact, new_product
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


class _BusinessGenerator(SalesDocuments):
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
