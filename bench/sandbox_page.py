"""How fast the Wave sandbox answers a 200-invoice page with items, taxes and payments.

The sandbox must not be what a benchmark of the pipeline measures: the goal is under 250 ms per
page. Starts a real sandbox (one business, 1000 invoices), warms up, then times full pages over
HTTP and prints median / p95 and their ratio to the goal.

    .venv/bin/python -m bench.sandbox_page [--pages 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

from wave_sandbox.testing import start_wave_sandbox

from bench.report import Figure, add_arguments, emit

GOAL_SECONDS = 0.250
MONEY = "value minorUnitValue currency { code }"
PAGE_QUERY = f"""
query Invoices($b: ID!, $page: Int!) {{ business(id: $b) {{ id
  invoices(page: $page, pageSize: 200, sort: [MODIFIED_AT_ASC]) {{
    pageInfo {{ currentPage totalPages totalCount }}
    edges {{ node {{
      id status title subhead invoiceNumber poNumber invoiceDate dueDate memo footer pdfUrl viewUrl
      exchangeRate createdAt modifiedAt lastSentAt lastSentVia lastViewedAt
      requireTermsOfServiceAgreement disableCreditCardPayments disableBankPayments
      disableAmexPayments itemTitle unitTitle priceTitle amountTitle hideName hideDescription
      hideUnit hidePrice hideAmount currency {{ code }} customer {{ id }}
      subtotal {{ {MONEY} }} taxTotal {{ {MONEY} }} discountTotal {{ {MONEY} }}
      total {{ {MONEY} }} amountDue {{ {MONEY} }} amountPaid {{ {MONEY} }}
      discounts {{ __typename name createdAt modifiedAt
        ... on FixedInvoiceDiscount {{ amount }} ... on PercentageInvoiceDiscount {{ percentage }} }}
      items {{ id description quantity unitPrice account {{ id }} product {{ id }}
        subtotal {{ {MONEY} }} total {{ {MONEY} }}
        taxes {{ amount {{ {MONEY} }} salesTax {{ id name abbreviation }} }} }}
      payments {{ id amount paymentDate paymentMethod memo exchangeRate createdAt modifiedAt
        account {{ id }} }}
    }} }} }} }} }}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10, help="timed pages (default 10)")
    add_arguments(parser)
    args = parser.parse_args()
    with start_wave_sandbox(
        businesses=1, seed=1, invoices=1000, customers=300, estimates=10
    ) as sandbox:
        business_id = sandbox.business_ids()[0]
        sandbox.graphql(PAGE_QUERY, {"b": business_id, "page": 1})  # parse+validate once
        timings, nodes = [], 0
        for n in range(args.pages):
            started = time.perf_counter()
            answer = sandbox.graphql(PAGE_QUERY, {"b": business_id, "page": 1 + n % 5})
            timings.append(time.perf_counter() - started)
            assert not answer.get("errors"), answer["errors"]
            nodes = len(answer["data"]["business"]["invoices"]["edges"])
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    emit(
        [
            Figure(
                "sandbox page (200 inv.)",
                f"{name} answer, {nodes} invoices/page",
                value,
                "s",
                f"goal {GOAL_SECONDS} s",
                value / GOAL_SECONDS,
                "<=1",
            )
            for name, value in (("median", median), ("p95", p95))
        ],
        args.figures_json,
    )


if __name__ == "__main__":
    main()
