"""Pagination, filters and sorts of the sandbox's list fields, checked against full listings."""

from __future__ import annotations

import itertools

import pytest

PAGE = "pageInfo { currentPage totalPages totalCount }"


def data_of(answer: dict) -> dict:
    assert not answer.get("errors"), answer.get("errors")
    return answer["data"]


def list_all(
    sandbox, business_id: str, field: str, selection: str, args: str = "", page_size: int = 200
) -> list[dict]:
    nodes, page = [], 1
    while True:
        query = (
            f"query($b: ID!, $p: Int!) {{ business(id: $b) {{ {field}(page: $p, "
            f"pageSize: {page_size} {args}) {{ {PAGE} edges {{ node {{ {selection} }} }} }} }} }}"
        )
        connection = data_of(sandbox.graphql(query, {"b": business_id, "p": page}))["business"][
            field
        ]
        assert connection["pageInfo"]["currentPage"] == page
        nodes += [edge["node"] for edge in connection["edges"]]
        if page >= connection["pageInfo"]["totalPages"]:
            assert len(nodes) == connection["pageInfo"]["totalCount"]
            return nodes
        page += 1


@pytest.fixture(scope="module")
def business_id(wave_sandbox) -> str:
    return wave_sandbox.business_ids()[0]


@pytest.mark.parametrize(
    "field,page_size",
    [
        ("customers", 7),
        ("invoices", 13),
        ("products", 6),
        ("estimates", 4),
        ("vendors", 3),
        ("accounts", 5),
        ("salesTaxes", 1),
    ],
)
def test_pages_partition_the_set_exactly(wave_sandbox, business_id, field, page_size):
    whole = list_all(wave_sandbox, business_id, field, "id")
    paged = list_all(wave_sandbox, business_id, field, "id", page_size=page_size)
    assert [n["id"] for n in paged] == [n["id"] for n in whole]
    assert len({n["id"] for n in paged}) == len(paged)


def test_page_past_the_end_is_empty_with_totals(wave_sandbox, business_id):
    answer = data_of(
        wave_sandbox.graphql(
            f"query($b: ID!) {{ business(id: $b) {{ customers(page: 99, pageSize: 10) {{ {PAGE} "
            "edges { node { id } } } } }",
            {"b": business_id},
        )
    )
    connection = answer["business"]["customers"]
    assert connection["edges"] == []
    assert connection["pageInfo"] == {"currentPage": 99, "totalPages": 4, "totalCount": 40}


def test_businesses_paging_and_archive_filter(wave_sandbox):
    ids = wave_sandbox.business_ids()
    assert len(ids) == 3
    first = data_of(
        wave_sandbox.graphql(
            f"{{ businesses(page: 2, pageSize: 2) {{ {PAGE} edges {{ node {{ id isArchived }} }} }} }}"
        )
    )
    assert [e["node"]["id"] for e in first["businesses"]["edges"]] == ids[2:]
    archived = data_of(
        wave_sandbox.graphql("{ businesses(isArchived: true) { edges { node { id } } } }")
    )
    assert archived["businesses"]["edges"] == []


@pytest.mark.parametrize(
    "field,sort,key",
    [
        ("customers", "CREATED_AT_ASC", "createdAt"),
        ("customers", "MODIFIED_AT_DESC", "modifiedAt"),
        ("customers", "NAME_ASC", "name"),
        ("products", "NAME_DESC", "name"),
        ("products", "MODIFIED_AT_ASC", "modifiedAt"),
        ("invoices", "CREATED_AT_DESC", "createdAt"),
        ("invoices", "MODIFIED_AT_ASC", "modifiedAt"),
        ("invoices", "INVOICE_DATE_ASC", "invoiceDate"),
        ("invoices", "DUE_AT_DESC", "dueDate"),
        ("invoices", "STATUS_ASC", "status"),
    ],
)
def test_each_sort_orders_by_its_key(wave_sandbox, business_id, field, sort, key):
    args = f"sort: [{sort}]" + (", isArchived: null" if field == "products" else "")
    nodes = list_all(wave_sandbox, business_id, field, f"id {key}", args, page_size=17)
    values = [n[key].lower() if key == "name" else n[key] for n in nodes]
    assert values == sorted(values, reverse=sort.endswith("DESC"))


@pytest.mark.parametrize(
    "sort,money_field",
    [("TOTAL_ASC", "total"), ("AMOUNT_DUE_DESC", "amountDue"), ("AMOUNT_PAID_ASC", "amountPaid")],
)
def test_invoice_money_sorts(wave_sandbox, business_id, sort, money_field):
    from decimal import Decimal

    nodes = list_all(
        wave_sandbox, business_id, "invoices", f"{money_field} {{ value }}", f"sort: [{sort}]"
    )
    values = [Decimal(n[money_field]["value"]) for n in nodes]
    assert values == sorted(values, reverse=sort.endswith("DESC"))


def test_invoice_sorts_by_number_and_customer_name(wave_sandbox, business_id):
    numbers = [
        int(n["invoiceNumber"])
        for n in list_all(
            wave_sandbox, business_id, "invoices", "invoiceNumber", "sort: [INVOICE_NUMBER_DESC]"
        )
    ]
    assert numbers == sorted(numbers, reverse=True)
    names = [
        n["customer"]["name"].lower()
        for n in list_all(
            wave_sandbox, business_id, "invoices", "customer { name }", "sort: [CUSTOMER_NAME_ASC]"
        )
    ]
    assert names == sorted(names)


def test_multi_key_sort_breaks_ties_with_the_second_key(wave_sandbox, business_id):
    nodes = list_all(
        wave_sandbox,
        business_id,
        "invoices",
        "status invoiceDate",
        "sort: [STATUS_ASC, INVOICE_DATE_DESC]",
    )
    keys = [(n["status"], n["invoiceDate"]) for n in nodes]
    for before, after in itertools.pairwise(keys):
        assert before[0] < after[0] or (before[0] == after[0] and before[1] >= after[1])


def test_estimate_sorts(wave_sandbox, business_id):
    from decimal import Decimal

    dates = [
        n["estimateDate"] for n in list_all(wave_sandbox, business_id, "estimates", "estimateDate")
    ]
    assert dates == sorted(dates, reverse=True)  # default ESTIMATE_DATE_DESC
    totals = [
        Decimal(n["total"]["value"])
        for n in list_all(
            wave_sandbox, business_id, "estimates", "total { value }", "sort: TOTAL_DESC"
        )
    ]
    assert totals == sorted(totals, reverse=True)


@pytest.mark.parametrize(
    "field", ["customers", "products", "invoices", "vendors", "salesTaxes", "estimates"]
)
def test_modified_at_window_is_exclusive_on_both_ends(wave_sandbox, business_id, field):
    extra = ", isArchived: null" if field in ("products", "salesTaxes") else ""
    everything = list_all(wave_sandbox, business_id, field, "id modifiedAt", extra.lstrip(", "))
    stamps = sorted(n["modifiedAt"] for n in everything)
    low, high = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    window = list_all(
        wave_sandbox,
        business_id,
        field,
        "id modifiedAt",
        f'modifiedAtAfter: "{low}", modifiedAtBefore: "{high}"{extra}',
    )
    expected = {n["id"] for n in everything if low < n["modifiedAt"] < high}
    assert {n["id"] for n in window} == expected
    assert expected


def test_is_archived_defaults_to_false_and_null_means_all(wave_sandbox, business_id):
    for field in ("products", "accounts", "salesTaxes"):
        default = list_all(wave_sandbox, business_id, field, "id isArchived")
        everything = list_all(wave_sandbox, business_id, field, "id isArchived", "isArchived: null")
        archived = list_all(wave_sandbox, business_id, field, "id isArchived", "isArchived: true")
        assert not any(n["isArchived"] for n in default)
        assert archived and all(n["isArchived"] for n in archived)
        assert len(default) + len(archived) == len(everything)


def test_product_sold_and_bought_filters(wave_sandbox, business_id):
    everything = list_all(
        wave_sandbox, business_id, "products", "id isSold isBought", "isArchived: null"
    )
    for flag in ("isSold", "isBought"):
        for value in (True, False):
            got = list_all(
                wave_sandbox,
                business_id,
                "products",
                "id",
                f"isArchived: null, {flag}: {str(value).lower()}",
            )
            assert {n["id"] for n in got} == {n["id"] for n in everything if n[flag] is value}


def test_account_type_and_subtype_filters(wave_sandbox, business_id):
    everything = list_all(
        wave_sandbox, business_id, "accounts", "id type { value } subtype { value }"
    )
    income = list_all(wave_sandbox, business_id, "accounts", "id", "types: [INCOME]")
    assert {n["id"] for n in income} == {
        n["id"] for n in everything if n["type"]["value"] == "INCOME"
    }
    cash = list_all(wave_sandbox, business_id, "accounts", "id", "subtypes: [CASH_AND_BANK]")
    assert len(cash) == 2
    rest = list_all(
        wave_sandbox, business_id, "accounts", "id", "excludedSubtypes: [CASH_AND_BANK]"
    )
    assert len(rest) + len(cash) == len(everything)


def test_email_filters(wave_sandbox, business_id):
    for field in ("customers", "vendors"):
        some = list_all(wave_sandbox, business_id, field, "id email")[3]
        got = list_all(wave_sandbox, business_id, field, "id", f'email: "{some["email"].upper()}"')
        assert [n["id"] for n in got] == [some["id"]]


INVOICE_FIELDS = (
    "id status invoiceNumber invoiceDate customer { id } currency { code } amountDue { value }"
)


@pytest.fixture(scope="module")
def all_invoices(wave_sandbox, business_id):
    return list_all(wave_sandbox, business_id, "invoices", INVOICE_FIELDS)


@pytest.mark.parametrize(
    "status", ["DRAFT", "SAVED", "SENT", "VIEWED", "PARTIAL", "PAID", "OVERDUE", "OVERPAID"]
)
def test_invoice_status_filter(wave_sandbox, business_id, all_invoices, status):
    got = list_all(wave_sandbox, business_id, "invoices", "id status", f"status: {status}")
    assert {n["id"] for n in got} == {n["id"] for n in all_invoices if n["status"] == status}


def test_invoice_unpaid_filter_is_everything_approved_with_money_due(
    wave_sandbox, business_id, all_invoices
):
    got = list_all(wave_sandbox, business_id, "invoices", "id", "status: UNPAID")
    expected = {
        n["id"]
        for n in all_invoices
        if n["status"] != "DRAFT" and n["amountDue"]["value"] != "0.00"
    }
    assert {n["id"] for n in got} == expected and expected


def test_invoice_customer_number_date_currency_and_amount_filters(
    wave_sandbox, business_id, all_invoices
):
    sample = all_invoices[10]
    by_customer = list_all(
        wave_sandbox, business_id, "invoices", "id", f'customerId: "{sample["customer"]["id"]}"'
    )
    assert {n["id"] for n in by_customer} == {
        n["id"] for n in all_invoices if n["customer"]["id"] == sample["customer"]["id"]
    }
    by_number = list_all(
        wave_sandbox, business_id, "invoices", "id invoiceNumber", 'invoiceNumber: "12"'
    )
    assert {n["id"] for n in by_number} == {
        n["id"] for n in all_invoices if "12" in n["invoiceNumber"]
    }
    start, end = sorted(n["invoiceDate"] for n in all_invoices)[40], sample["invoiceDate"]
    start, end = min(start, end), max(start, end)
    by_date = list_all(
        wave_sandbox,
        business_id,
        "invoices",
        "id",
        f'invoiceDateStart: "{start}", invoiceDateEnd: "{end}"',
    )
    assert {n["id"] for n in by_date} == {
        n["id"] for n in all_invoices if start <= n["invoiceDate"] <= end
    }
    code = sample["currency"]["code"]
    assert len(list_all(wave_sandbox, business_id, "invoices", "id", f"currency: {code}")) == len(
        all_invoices
    )
    assert list_all(wave_sandbox, business_id, "invoices", "id", "currency: JPY") == []
    due = sample["amountDue"]["value"]
    by_due = list_all(wave_sandbox, business_id, "invoices", "id", f'amountDue: "{due}"')
    assert {n["id"] for n in by_due} == {
        n["id"] for n in all_invoices if n["amountDue"]["value"] == due
    }


def test_estimate_filters(wave_sandbox, business_id):
    everything = list_all(
        wave_sandbox,
        business_id,
        "estimates",
        "id status estimateNumber estimateDate customer { id }",
    )
    drafts = list_all(wave_sandbox, business_id, "estimates", "id", "status: DRAFT")
    assert {n["id"] for n in drafts} == {n["id"] for n in everything if n["status"] == "DRAFT"}
    customer_id = everything[0]["customer"]["id"]
    mine = list_all(wave_sandbox, business_id, "estimates", "id", f'customerId: "{customer_id}"')
    assert {n["id"] for n in mine} == {
        n["id"] for n in everything if n["customer"]["id"] == customer_id
    }
    day = everything[5]["estimateDate"]
    same_day = list_all(
        wave_sandbox,
        business_id,
        "estimates",
        "id",
        f'estimateDateStart: "{day}", estimateDateEnd: "{day}"',
    )
    assert {n["id"] for n in same_day} == {n["id"] for n in everything if n["estimateDate"] == day}
    numbered = list_all(wave_sandbox, business_id, "estimates", "id", 'estimateNumber: "3"')
    assert {n["id"] for n in numbered} == {
        n["id"] for n in everything if "3" in n["estimateNumber"]
    }


def test_lookups_by_id_return_the_listed_record(wave_sandbox, business_id, all_invoices):
    invoice_id = all_invoices[0]["id"]
    got = data_of(
        wave_sandbox.graphql(
            "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id invoiceNumber "
            "payments { id } } } }",
            {"b": business_id, "i": invoice_id},
        )
    )["business"]["invoice"]
    assert got["invoiceNumber"] == all_invoices[0]["invoiceNumber"]
    for payment in got["payments"]:
        again = data_of(
            wave_sandbox.graphql(
                "query($b: ID!, $p: ID!) { business(id: $b) { invoicePayment(id: $p) { id "
                "invoice { id } } } }",
                {"b": business_id, "p": payment["id"]},
            )
        )
        assert again["business"]["invoicePayment"]["invoice"]["id"] == invoice_id
