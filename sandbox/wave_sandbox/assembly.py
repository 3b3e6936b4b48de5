"""Wiring: from parsed CLI options to a ready ``WaveSandboxApp`` (books, schema, auth, faults)."""

from __future__ import annotations

import argparse
import base64
import uuid

from .auth import OAuthSettings, TokenAuthority
from .books import BookSizes, generate_books
from .clock import SandboxClock, iso_datetime
from .faults import FaultInjector
from .mutations import attach_mutation_resolvers
from .resolvers import attach_read_resolvers
from .schema import wave_schema
from .server import WaveSandboxApp
from .webhooks import WebhookSender


def build_sandbox(args: argparse.Namespace) -> WaveSandboxApp:
    clock = SandboxClock(args.now)
    sizes = BookSizes(
        customers=args.customers,
        vendors=args.vendors,
        products=args.products,
        invoices=args.invoices,
        estimates=args.estimates,
    )
    books = generate_books(clock, args.businesses, args.seed, sizes)
    schema = wave_schema()
    attach_read_resolvers(schema)
    attach_mutation_resolvers(schema)
    user_uuid = uuid.UUID(int=args.seed, version=4)
    user = {
        "id": base64.b64encode(f"User:{user_uuid}".encode()).decode(),
        "defaultEmail": "owner@sandbox.waveapps.test",
        "firstName": "Sandbox",
        "lastName": "Owner",
        "createdAt": iso_datetime(clock.start.replace(year=2020)),
        "modifiedAt": iso_datetime(clock.start.replace(year=2024)),
    }
    application = {
        "id": base64.b64encode(f"OAuthApplication:{args.client_id}".encode()).decode(),
        "name": "Wave sandbox application",
        "description": None,
        "clientId": args.client_id,
        "logoUrl": None,
        "extraData": None,
        "createdAt": user["createdAt"],
        "modifiedAt": user["modifiedAt"],
    }
    settings = OAuthSettings(
        args.access_token, args.client_id, args.client_secret, args.refresh_token, args.token_ttl
    )
    first_business = books.businesses[0]["id"] if books.businesses else None
    authority = TokenAuthority(
        settings, clock, user["id"], first_business, dict(args.scoped_token or [])
    )
    faults = FaultInjector(
        args.seed, args.rate_limit, args.fault_rate, args.stall_seconds, args.graphql_error_rate
    )
    events = WebhookSender(clock, args.seed, args.webhook_url, args.webhook_secret)
    return WaveSandboxApp(
        schema=schema,
        books=books,
        authority=authority,
        faults=faults,
        events=events,
        page_size_max=args.page_size_max,
        user=user,
        oauth_application=application,
    )
