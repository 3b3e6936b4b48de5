"""Word lists and templates the seeded generator draws names, places and prices from."""

from __future__ import annotations

BUSINESS_PROFILES = [
    {"suffix": "Design Studio", "country": "US", "currency": "USD",
     "timezone": "America/New_York", "organizational_type": "CORPORATION",
     "type": "WEB_MEDIA_FREELANCER", "type_name": "Web, Media, Freelancer",
     "subtype": "WEB_MEDIA_FREELANCER__DESIGNER", "subtype_name": "Designer",
     "sales_taxes": ["NY_STATE", "NYC", "OLD_COUNTY"]},
    {"suffix": "Consulting Inc.", "country": "CA", "currency": "CAD",
     "timezone": "America/Toronto", "organizational_type": "CORPORATION",
     "type": "CONSULTANTS_PROFESSIONALS", "type_name": "Consultants, Professionals",
     "subtype": "CONSULTANTS_PROFESSIONALS__IT_TECHNICAL", "subtype_name": "IT, Technical",
     "sales_taxes": ["HST", "GST", "PST_OLD"]},
    {"suffix": "Landscaping", "country": "US", "currency": "USD",
     "timezone": "America/Los_Angeles", "organizational_type": "SOLE_PROPRIETORSHIP",
     "type": "SERVICE_PROVIDER", "type_name": "Service Provider",
     "subtype": "SERVICE_PROVIDER__OTHER", "subtype_name": "Other",
     "sales_taxes": ["CA_STATE"]},
    {"suffix": "Supply Co.", "country": "GB", "currency": "GBP",
     "timezone": "Europe/London", "organizational_type": "PARTNERSHIP",
     "type": "RETAILERS_AND_RESELLERS", "type_name": "Retailers and Resellers",
     "subtype": "RETAILERS_AND_RESELLERS__STORE_RETAILER", "subtype_name": "Store Retailer",
     "sales_taxes": ["VAT", "VAT_REDUCED"]},
]

# key: (name, abbreviation, [(effective date, rate)], archived)
SALES_TAXES = {
    "NY_STATE": ("New York State Sales Tax", "NYS", [("2019-01-01", "0.04")], False),
    "NYC": ("New York City Sales Tax", "NYC",
            [("2019-01-01", "0.045"), ("2025-09-01", "0.04875")], False),
    "OLD_COUNTY": ("County Surcharge", "CTY", [("2018-01-01", "0.005")], True),
    "HST": ("Harmonized Sales Tax", "HST", [("2016-07-01", "0.13")], False),
    "GST": ("Goods and Services Tax", "GST", [("2008-01-01", "0.05")], False),
    "PST_OLD": ("Provincial Sales Tax", "PST", [("2010-01-01", "0.08")], True),
    "CA_STATE": ("California Sales Tax", "CAST",
                 [("2017-01-01", "0.0725"), ("2025-10-01", "0.0775")], False),
    "VAT": ("Value Added Tax", "VAT", [("2011-01-04", "0.20")], False),
    "VAT_REDUCED": ("Reduced VAT", "VATR", [("2011-01-04", "0.05")], False),
}

# (name, subtype, archived)
CHART_OF_ACCOUNTS = [
    ("Cash on Hand", "CASH_AND_BANK", False),
    ("Business Checking", "CASH_AND_BANK", False),
    ("Payments Clearing", "MONEY_IN_TRANSIT", False),
    ("Accounts Receivable", "RECEIVABLE_INVOICES", False),
    ("Inventory", "INVENTORY", False),
    ("Office Equipment", "PROPERTY_PLANT_EQUIPMENT", False),
    ("Accounts Payable", "PAYABLE_BILLS", False),
    ("Business Credit Card", "CREDIT_CARD", False),
    ("Bank Loan", "LOANS", False),
    ("Customer Prepayments", "CUSTOMER_PREPAYMENTS_AND_CREDITS", False),
    ("Owner Investment / Drawings", "DUE_TO_YOU_AND_OTHER_OWNERS", False),
    ("Retained Earnings", "RETAINED_EARNINGS", False),
    ("Sales", "INCOME", False),
    ("Consulting Income", "INCOME", False),
    ("Service Income", "INCOME", False),
    ("Legacy Product Sales", "INCOME", True),
    ("Discounts", "DISCOUNTS", False),
    ("Uncategorized Income", "UNCATEGORIZED_INCOME", False),
    ("Cost of Goods Sold", "COST_OF_GOODS_SOLD", False),
    ("Advertising & Promotion", "EXPENSE", False),
    ("Rent Expense", "EXPENSE", False),
    ("Office Supplies", "EXPENSE", False),
    ("Travel Expense", "EXPENSE", False),
    ("Old Subscriptions", "EXPENSE", True),
    ("Payment Processing Fees", "PAYMENT_PROCESSING_FEES", False),
    ("Uncategorized Expense", "UNCATEGORIZED_EXPENSE", False),
]

# (name, low price, high price) in major units
PRODUCT_NAMES = [
    ("Consulting hour", 90, 220), ("Website design", 800, 4000), ("Logo design", 250, 900),
    ("Monthly retainer", 500, 3000), ("Site visit", 60, 180), ("Hardware kit", 40, 400),
    ("Training session", 150, 600), ("Support plan", 30, 300), ("Photography package", 300, 1500),
    ("Copywriting (per page)", 40, 160), ("Lawn mowing", 35, 120), ("Hedge trimming", 50, 200),
    ("Garden design", 400, 2500), ("Delivery", 10, 60), ("Installation", 80, 500),
    ("Annual licence", 100, 1200), ("Repair call-out", 70, 250), ("Materials", 5, 90),
]

FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia",
               "Lucas", "Mia", "Mateo", "Chloe", "Aarav", "Zara", "Kenji", "Fatima", "Diego",
               "Ines", "Tomasz", "Priya", "Hannah", "Omar", "Grace", "Felix", "Leila"]
LAST_NAMES = ["Smith", "Nguyen", "Garcia", "Johnson", "Brown", "Tremblay", "Martin", "Patel",
              "Kowalski", "Silva", "Okafor", "Roy", "Khan", "Muller", "Rossi", "Lee", "Wilson",
              "Anderson", "Dubois", "Kim", "Cohen", "Haddad", "Larsen", "Walker"]
COMPANY_WORDS = ["Northwind", "Bluebird", "Maple", "Granite", "Harbor", "Summit", "Cedar",
                 "Lighthouse", "Riverbend", "Ironwood", "Oak & Ash", "Evergreen", "Pinecrest",
                 "Silverline", "Foxglove", "Kestrel", "Juniper", "Brightside"]
STREETS = ["Main St", "King St W", "Queen St E", "Elm Ave", "Oak Rd", "Market St",
           "Church St", "High St", "Park Ave", "Lakeshore Blvd", "Sunset Blvd", "Mill Lane"]

CITIES = {
    "US": [("New York", "US-NY", "10001"), ("Brooklyn", "US-NY", "11201"),
           ("Los Angeles", "US-CA", "90012"), ("San Diego", "US-CA", "92101"),
           ("Austin", "US-TX", "73301"), ("Seattle", "US-WA", "98101"),
           ("Chicago", "US-IL", "60601"), ("Boston", "US-MA", "02108")],
    "CA": [("Toronto", "CA-ON", "M5V 2T6"), ("Ottawa", "CA-ON", "K1P 1J1"),
           ("Montreal", "CA-QC", "H2Y 1C6"), ("Vancouver", "CA-BC", "V6B 1A1"),
           ("Calgary", "CA-AB", "T2P 1J9"), ("Halifax", "CA-NS", "B3H 1A1")],
    "GB": [("London", "GB-ENG", "EC1A 1BB"), ("Manchester", "GB-ENG", "M1 1AE"),
           ("Edinburgh", "GB-SCT", "EH1 1YZ"), ("Cardiff", "GB-WLS", "CF10 1EP")],
}
