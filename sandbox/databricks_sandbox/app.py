"""The HTTP face of the simulated workspace (one Starlette app, served by uvicorn):

* ``POST /sql/1.0/warehouses/<id>``: Thrift TCLIService (binary protocol) for the connector,
  behind bearer-token auth and the HTTP fault injector;
* ``/.well-known/databricks-config``, ``/oidc/.well-known/oauth-authorization-server`` and
  ``POST /oidc/v1/token``: OAuth M2M discovery and the client-credentials grant;
* ``PUT/GET/DELETE /sandbox-files/Volumes/…``: the presigned volume-file URLs;
* the connector's side channels (feature flags, telemetry), answered and ignored;
* ``/sandbox/*``: control and inspection for tests (statements, faults, latency, tables, auth,
  connection).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from databricks.sql.thrift_api.TCLIService import TCLIService
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import staging as staging_mod
from .auth import Authority, TokenError
from .errors import DatabricksSQLError
from .faults import Faults
from .latency import LatencyModel
from .privileges import Privileges
from .statement_log import StatementLog
from .thrift_service import WarehouseService, process
from .warehouse import Warehouse

REASON_HEADER = "x-databricks-reason-phrase"


@dataclass
class SandboxConfig:
    host: str
    port: int
    data_dir: Path
    warehouse_id: str = "sandbox"
    catalog: str = "main"
    schema: str = "default"
    pat: str = "sandbox-pat"
    client_id: str = "sandbox-sp"
    client_secret: str = "sandbox-sp-secret"
    token_ttl: int = 3600
    pat_user: str | None = None  # who the PAT belongs to; None: the service principal
    faults: dict[str, int] = field(default_factory=dict)
    deny: list[str] = field(default_factory=list)  # PRINCIPAL=CATALOG: read-only there
    analyzer: str = "spark"  # spark | none: Spark's analyzer in front of DuckDB, or not
    tls: bool = False  # serve https with a self-signed certificate (tls.py)
    latency: dict[str, float] = field(default_factory=dict)  # seconds per kind (latency.py)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        """The certificate clients must trust (https only)."""
        return self.data_dir / "tls-cert.pem" if self.tls else None

    @property
    def http_path(self) -> str:
        return f"/sql/1.0/warehouses/{self.warehouse_id}"


def connection_info(config: SandboxConfig) -> dict:
    """What GET /sandbox/connection answers: connector kwargs and the target's settings.

    The connector always builds ``https://<server_hostname>:443/<http_path>`` unless given
    ``_connection_uri``, so that names the simulator's own URL (http or https)."""
    connect = {
        "server_hostname": f"{config.host}:{config.port}",
        "http_path": config.http_path,
        "access_token": config.pat,
        "_connection_uri": config.base_url + config.http_path,
        "catalog": config.catalog,
        "schema": config.schema,
    }
    if config.tls:
        connect["_tls_trusted_ca_file"] = str(config.ca_file)
    else:  # telemetry would go to https://<server_hostname>
        connect["enable_telemetry"] = False
    return {
        "connect_kwargs": connect,
        "target_config": {
            "server_hostname": config.base_url,
            "http_path": config.http_path,
            "catalog": config.catalog,
            "schema": config.schema,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        },
        "pat": config.pat,
        "pat_user": config.pat_user or config.client_id,
        "oidc_token_url": config.base_url + "/oidc/v1/token",
        "data_dir": str(config.data_dir),
        "ca_file": str(config.ca_file) if config.tls else None,
    }


def create_app(config: SandboxConfig) -> Starlette:
    faults = Faults(**config.faults)
    log = StatementLog()
    grants = Privileges(config.deny)
    warehouse = Warehouse(
        config.data_dir,
        catalogs=[config.catalog],
        public_base_url=config.base_url,
        faults=faults,
        log=log,
        privileges=grants,
        analyzer=config.analyzer,
        latency=LatencyModel(config.latency),
    )
    warehouse.metastore.create_schema(config.catalog, config.schema)
    warehouse.analyzer.start()
    authority = Authority(
        issuer=config.base_url + "/oidc",
        pat=config.pat,
        client_id=config.client_id,
        client_secret=config.client_secret,
        token_ttl=config.token_ttl,
        pat_user=config.pat_user,
    )
    processor = TCLIService.Processor(WarehouseService(warehouse, config.catalog))

    async def thrift(request: Request) -> Response:
        if request.path_params["warehouse_id"] != config.warehouse_id:
            return Response(
                status_code=404,
                headers={
                    REASON_HEADER: f"Warehouse {request.path_params['warehouse_id']} does not exist."
                },
            )
        refusal = authority.check(request.headers.get("authorization"))
        if refusal is not None:
            return Response(status_code=refusal.status, headers={REASON_HEADER: refusal.reason})
        status = faults.take_http_status()
        if status is not None:
            reason = "Service Unavailable" if status == 503 else "Too Many Requests"
            return Response(status_code=status, headers={REASON_HEADER: reason, "Retry-After": "1"})
        body = await request.body()
        principal = authority.principal(request.headers["authorization"])
        reply = await run_in_threadpool(process, processor, body, principal)
        return Response(reply, media_type="application/x-thrift")

    async def databricks_config(request: Request) -> JSONResponse:
        return JSONResponse(
            {"oidc_endpoint": config.base_url + "/oidc", "workspace_id": "1000000000000001"}
        )

    async def oidc_discovery(request: Request) -> JSONResponse:
        base = config.base_url + "/oidc"
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": base + "/v1/authorize",
                "token_endpoint": base + "/v1/token",
                "grant_types_supported": ["client_credentials"],
                "scopes_supported": ["all-apis", "sql"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            return JSONResponse(authority.issue(form, request.headers.get("authorization")))
        except TokenError as exc:
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description}, status_code=exc.status
            )

    async def volume_file(request: Request) -> Response:
        volume_path = "/" + unquote(request.path_params["path"])
        problem = warehouse.staging.verify(
            request.method,
            volume_path,
            request.query_params.get("expires", ""),
            request.query_params.get("signature", ""),
        )
        if problem:
            return JSONResponse({"error_code": "PERMISSION_DENIED", "message": problem}, 403)
        try:
            local = warehouse.translator.volume_path(volume_path)
        except DatabricksSQLError as exc:
            return JSONResponse({"error_code": "NOT_FOUND", "message": exc.display()}, 404)
        if request.method == "PUT":
            staging_mod.write_atomically(local, await request.body())
            return Response(status_code=201)
        if not local.is_file():
            return JSONResponse(
                {"error_code": "NOT_FOUND", "message": f"File {volume_path} does not exist."}, 404
            )
        if request.method == "GET":
            return Response(local.read_bytes(), media_type="application/octet-stream")
        local.unlink()
        return Response(status_code=204)

    async def feature_flags(request: Request) -> JSONResponse:
        return JSONResponse({"flags": [], "ttl_seconds": 900})

    async def telemetry(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"errors": [], "numSuccess": 0})

    async def statements(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            return JSONResponse({"cleared": log.reset()})
        since = int(request.query_params.get("since", "0"))
        return JSONResponse(log.entries(since))

    async def statements_reset(request: Request) -> JSONResponse:
        return JSONResponse({"cleared": log.reset()})

    async def faults_endpoint(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse(
                {**faults.snapshot(), "token_ttl": authority.token_ttl, "deny": grants.rules()}
            )
        body = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            if "deny" in body:
                grants.replace(body.pop("deny"))
            if body.pop("expire_tokens", False):
                authority.expire_all()
            if "token_ttl" in body:
                authority.token_ttl = int(body.pop("token_ttl"))
            snapshot = faults.set(**body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({**snapshot, "token_ttl": authority.token_ttl, "deny": grants.rules()})

    async def latency(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse(warehouse.latency.snapshot())
        body = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            return JSONResponse(warehouse.latency.update(body))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)

    async def auth_state(request: Request) -> JSONResponse:
        return JSONResponse({"tokens_issued": authority.issued, "token_ttl": authority.token_ttl})

    async def tables(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(warehouse.metastore.tables))

    async def connection(request: Request) -> JSONResponse:
        return JSONResponse(connection_info(config))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "analyzer": warehouse.analyzer.status()})

    routes = [
        Route("/sql/1.0/warehouses/{warehouse_id}", thrift, methods=["POST"]),
        Route("/.well-known/databricks-config", databricks_config),
        Route("/oidc/.well-known/oauth-authorization-server", oidc_discovery),
        Route("/oidc/v1/token", token, methods=["POST"]),
        Route(
            staging_mod.URL_PREFIX + "/{path:path}", volume_file, methods=["PUT", "GET", "DELETE"]
        ),
        Route("/api/2.0/connector-service/feature-flags/{client}/{version}", feature_flags),
        Route("/telemetry-ext", telemetry, methods=["POST"]),
        Route("/telemetry-unauth", telemetry, methods=["POST"]),
        Route("/sandbox/statements", statements, methods=["GET", "DELETE"]),
        Route("/sandbox/statements/reset", statements_reset, methods=["POST"]),
        Route("/sandbox/faults", faults_endpoint, methods=["GET", "POST"]),
        Route("/sandbox/latency", latency, methods=["GET", "POST"]),
        Route("/sandbox/tables", tables),
        Route("/sandbox/auth", auth_state),
        Route("/sandbox/connection", connection),
        Route("/healthz", healthz),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        warehouse.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.warehouse = warehouse
    return app
