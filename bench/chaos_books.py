"""Random but seeded changes to a Wave sandbox's books, for the chaos runs (bench/chaos.py).

`BookChanges(sandbox, rng)` makes one real mutation per `change()`: create, patch, pay and
delete invoices, delete payments, create and delete customers and (when the books reach the
warehouse by webhook) create transactions. Given the same seed and the same seeded books it makes the same
changes in the same order. It remembers what the warehouse must show that the sandbox cannot
be asked for afterwards: the customers and transactions it created (Wave has no way to read a
transaction back).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from testkit.pipeline import sandbox_invoices
from testkit.wave_changes import BusinessChanges, MutationFailed

BOOKS = {
    "businesses": 3,
    "seed": 41,
    "customers": 3,
    "vendors": 1,
    "products": 3,
    "invoices": 5,
    "estimates": 1,
}
"""Small books: a run takes a few seconds, so many kills fit in a few minutes."""
MEMOS = ("chaos {n}", "Net 30 · chaos {n}", "chaos {n}: Grüße, ☃, 東京, 🧾")


@dataclass
class BookChanges:
    """Seeded mutations of a sandbox, and what they must leave in the warehouse."""

    sandbox: object
    rng: random.Random
    transactions: bool = False
    """Also create transactions (only the relay's runs load them: Wave cannot list them)."""
    made: int = 0
    refused: int = 0
    customers: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    """(business_id, customer id) -> (name, deleted since), for every customer created."""
    created_transactions: dict[tuple[str, str], str] = field(default_factory=dict)
    """(business_id, transaction id) -> anchor amount, for every transaction created."""

    def __post_init__(self) -> None:
        self.businesses = self.sandbox.business_ids()
        self.changes = {b: BusinessChanges(self.sandbox, b) for b in self.businesses}
        self.invoices: dict[str, list[str]] = {b: [] for b in self.businesses}
        for business_id, invoice_id in sorted(sandbox_invoices(self.sandbox)):
            self.invoices[business_id].append(invoice_id)
        self.payments: list[tuple[str, str]] = []  # (business_id, payment id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def change(self) -> str:
        """Make one change; return what it was (a refused one is counted and described)."""
        business_id = self.rng.choice(self.businesses)
        changes, invoices = self.changes[business_id], self.invoices[business_id]
        kinds = [
            "create_invoice",
            "patch_invoice",
            "patch_invoice",
            "pay_invoice",
            "delete_payment",
            "delete_invoice",
            "create_customer",
            "delete_customer",
        ]
        if self.transactions:
            kinds.append("create_transaction")
        kind = self.rng.choice(kinds)
        n = self.made + self.refused
        try:
            if kind == "create_invoice" or not invoices:
                kind = "create_invoice"
                invoices.append(
                    changes.create_invoice(
                        unit_price=f"{self.rng.randint(1, 500)}.{self.rng.randint(0, 99):02d}",
                        quantity=str(self.rng.randint(1, 5)),
                    )
                )
            elif kind == "patch_invoice":
                changes.patch_invoice(
                    self.rng.choice(invoices), memo=self.rng.choice(MEMOS).format(n=n)
                )
            elif kind == "pay_invoice":
                amount = f"{self.rng.randint(1, 20)}.{self.rng.randint(0, 99):02d}"
                self.payments.append(
                    (business_id, changes.pay_invoice(self.rng.choice(invoices), amount))
                )
            elif kind == "delete_payment" and self.payments:
                paid_in, payment = self.payments.pop(self.rng.randrange(len(self.payments)))
                self.changes[paid_in].delete_payment(payment)
            elif kind == "delete_invoice":
                invoice = self.rng.choice(invoices)
                changes.delete_invoice(invoice)
                invoices.remove(invoice)
            elif kind == "create_customer":
                name = f"Chaos customer {n} — Ærø"
                self.customers[(business_id, changes.create_customer(name))] = (name, False)
            elif kind == "delete_customer" and self.live_customers(business_id):
                key = self.rng.choice(self.live_customers(business_id))
                changes.delete_customer(key[1])  # ours have no invoices: Wave allows it
                self.customers[key] = (self.customers[key][0], True)
            elif kind == "create_transaction":
                amount = f"{self.rng.randint(1, 900)}.{self.rng.randint(0, 99):02d}"
                transaction = changes.create_transaction(amount=amount, tax=None)
                self.created_transactions[(business_id, transaction)] = amount
            else:
                return "nothing (no payment or customer of ours to delete)"
        except MutationFailed as refused:  # e.g. paying a draft: the books are unchanged
            self.refused += 1
            return f"{kind} refused: {refused}"
        self.made += 1
        return kind

    def live_customers(self, business_id: str) -> list[tuple[str, str]]:
        """The customers created here in `business_id` and not deleted since."""
        return [
            key
            for key, (_, deleted) in sorted(self.customers.items())
            if key[0] == business_id and not deleted
        ]

    # -- in the background, while something else is killed -------------------------------

    def start(self, pause: tuple[float, float]) -> None:
        """Keep changing the books from a thread, `pause` seconds (uniform) between changes."""
        pauses = random.Random(self.rng.random())

        def loop() -> None:
            while not self._stop.wait(pauses.uniform(*pause)):
                self.change()

        self._thread = threading.Thread(target=loop, name="book-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
