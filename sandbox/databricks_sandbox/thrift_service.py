"""The TCLIService handler: sessions and operations as a Databricks SQL warehouse serves them to
the connector's Thrift backend (OpenSession, ExecuteStatement with direct results,
GetOperationStatus, GetResultSetMetadata, FetchResults, Cancel/CloseOperation, CloseSession,
GetInfo, and the GetCatalogs/GetSchemas/GetTables/GetColumns metadata calls). Statements
execute synchronously; their results stay on the operation until it is closed.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from dataclasses import dataclass, field

import pyarrow as pa
from databricks.sql.thrift_api.TCLIService import TCLIService, ttypes
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

from . import errors, metadata_rpcs, results
from .translate import Namespace, Parameter
from .warehouse import StatementResult, Warehouse

logger = logging.getLogger(__name__)
SERVER_PROTOCOL = ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8
OK = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
S = ttypes.TOperationState
CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
"""The principal whose HTTP request is being processed (set by :func:`process`)."""


def _error_status(
    message: str, sqlstate: str | None = None, code=ttypes.TStatusCode.ERROR_STATUS
) -> ttypes.TStatus:
    return ttypes.TStatus(
        statusCode=code, errorMessage=message, displayMessage=message, sqlState=sqlstate
    )


def _handle_id() -> ttypes.THandleIdentifier:
    return ttypes.THandleIdentifier(guid=uuid.uuid4().bytes, secret=uuid.uuid4().bytes)


@dataclass
class Session:
    ns: Namespace
    handle: ttypes.TSessionHandle
    principal: str = ""  # who opened it: its statements run as this principal


@dataclass
class Operation:
    session: Session
    handle: ttypes.TOperationHandle
    state: int = S.FINISHED_STATE
    result: StatementResult | None = None
    error: errors.DatabricksSQLError | None = None
    offset: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class WarehouseService:
    """TCLIService.Iface over a :class:`Warehouse`."""

    def __init__(self, warehouse: Warehouse, default_catalog: str):
        self.warehouse = warehouse
        self.default_catalog = default_catalog
        self._sessions: dict[bytes, Session] = {}
        self._operations: dict[bytes, Operation] = {}
        self._lock = threading.Lock()

    # -- sessions -------------------------------------------------------------------------
    def OpenSession(self, req):
        self.warehouse.latency.wait("session")
        ns = req.initialNamespace
        catalog = ((ns and ns.catalogName) or self.default_catalog).lower()
        schema = ((ns and ns.schemaName) or "default").lower()
        if not self.warehouse.metastore.catalog_exists(catalog):
            err = errors.catalog_not_found(catalog)
            return ttypes.TOpenSessionResp(
                status=_error_status(err.display(), err.sqlstate),
                serverProtocolVersion=SERVER_PROTOCOL,
            )
        # A schema that does not exist yet is fine (clients such as dbt open their session in the
        # schema they are about to create); unqualified names fail until it exists.
        handle = ttypes.TSessionHandle(
            sessionId=_handle_id(), serverProtocolVersion=SERVER_PROTOCOL
        )
        with self._lock:
            self._sessions[handle.sessionId.guid] = Session(
                Namespace(catalog, schema), handle, CALLER.get()
            )
        return ttypes.TOpenSessionResp(
            status=OK,
            serverProtocolVersion=SERVER_PROTOCOL,
            sessionHandle=handle,
            configuration={},
            canUseMultipleCatalogs=True,
            initialNamespace=ttypes.TNamespace(catalogName=catalog, schemaName=schema),
        )

    def CloseSession(self, req):
        with self._lock:
            session = self._sessions.pop(req.sessionHandle.sessionId.guid, None)
            if session is not None:
                for key in [k for k, op in self._operations.items() if op.session is session]:
                    del self._operations[key]
        if session is None:
            return ttypes.TCloseSessionResp(status=self._invalid("SessionHandle"))
        return ttypes.TCloseSessionResp(status=OK)

    def GetInfo(self, req):
        names = {
            ttypes.TGetInfoType.CLI_DBMS_NAME: "Spark SQL",
            ttypes.TGetInfoType.CLI_DBMS_VER: "3.5.0",
            ttypes.TGetInfoType.CLI_SERVER_NAME: "Databricks SQL warehouse sandbox",
        }
        return ttypes.TGetInfoResp(
            status=OK, infoValue=ttypes.TGetInfoValue(stringValue=names.get(req.infoType, ""))
        )

    # -- statements -----------------------------------------------------------------------
    def ExecuteStatement(self, req):
        session = self._session(req.sessionHandle)
        if session is None:
            return ttypes.TExecuteStatementResp(status=self._invalid("SessionHandle"))
        handle = ttypes.TOperationHandle(
            operationId=_handle_id(),
            operationType=ttypes.TOperationType.EXECUTE_STATEMENT,
            hasResultSet=True,
        )
        op = Operation(session=session, handle=handle)
        params = [
            Parameter(p.name, p.type, p.value.stringValue if p.value else None)
            for p in req.parameters or []
        ]
        try:
            op.result = self.warehouse.execute(
                session.ns,
                req.statement,
                params,
                session_id=session.handle.sessionId.guid.hex(),
                principal=session.principal,
            )
            op.result = StatementResult(
                results.normalize(op.result.table),
                op.result.kind,
                op.result.modified_rows,
                op.result.staging,
            )
            handle.modifiedRowCount = op.result.modified_rows
        except errors.DatabricksSQLError as exc:
            op.state, op.error = S.ERROR_STATE, exc
        except Exception as exc:  # a simulator bug must still reach the client as an error
            logger.exception("statement failed inside the simulator: %s", req.statement)
            op.state = S.ERROR_STATE
            op.error = errors.DatabricksSQLError(
                "INTERNAL_ERROR", f"The sandbox failed to execute the statement: {exc!r}", "XX000"
            )
        with self._lock:
            self._operations[handle.operationId.guid] = op
        direct = None
        if req.getDirectResults is not None:
            direct = ttypes.TSparkDirectResults(operationStatus=self._status(op))
            if op.error is None:
                direct.resultSetMetadata = self._metadata(op)
                direct.resultSet = self._fetch(op, req.getDirectResults.maxRows or 100000)
        return ttypes.TExecuteStatementResp(status=OK, operationHandle=handle, directResults=direct)

    # -- metadata calls ---------------------------------------------------------------------
    def GetCatalogs(self, req):
        return self._metadata_call(
            req,
            ttypes.TGetCatalogsResp,
            ttypes.TOperationType.GET_CATALOGS,
            lambda m: metadata_rpcs.catalogs(m),
        )

    def GetSchemas(self, req):
        return self._metadata_call(
            req,
            ttypes.TGetSchemasResp,
            ttypes.TOperationType.GET_SCHEMAS,
            lambda m: metadata_rpcs.schemas(m, req.catalogName, req.schemaName),
        )

    def GetTables(self, req):
        return self._metadata_call(
            req,
            ttypes.TGetTablesResp,
            ttypes.TOperationType.GET_TABLES,
            lambda m: metadata_rpcs.tables(m, req.catalogName, req.schemaName, req.tableName),
        )

    def GetColumns(self, req):
        return self._metadata_call(
            req,
            ttypes.TGetColumnsResp,
            ttypes.TOperationType.GET_COLUMNS,
            lambda m: metadata_rpcs.columns(
                m, req.catalogName, req.schemaName, req.tableName, req.columnName
            ),
        )

    def _metadata_call(self, req, response_type, operation_type, build):
        session = self._session(req.sessionHandle)
        if session is None:
            return response_type(status=self._invalid("SessionHandle"))
        handle = ttypes.TOperationHandle(
            operationId=_handle_id(), operationType=operation_type, hasResultSet=True
        )
        self.warehouse.latency.wait("metadata")
        table = results.normalize(build(self.warehouse.metastore))
        op = Operation(
            session=session,
            handle=handle,
            result=StatementResult(table, ttypes.TOperationType._VALUES_TO_NAMES[operation_type]),
        )
        with self._lock:
            self._operations[handle.operationId.guid] = op
        direct = None
        if req.getDirectResults is not None:
            direct = ttypes.TSparkDirectResults(
                operationStatus=self._status(op),
                resultSetMetadata=self._metadata(op),
                resultSet=self._fetch(op, req.getDirectResults.maxRows or 100000),
            )
        return response_type(status=OK, operationHandle=handle, directResults=direct)

    def GetOperationStatus(self, req):
        op = self._operation(req.operationHandle)
        if op is None:
            return ttypes.TGetOperationStatusResp(status=self._invalid("OperationHandle"))
        return self._status(op)

    def GetResultSetMetadata(self, req):
        op = self._operation(req.operationHandle)
        if op is None or op.result is None:
            return ttypes.TGetResultSetMetadataResp(status=self._invalid("OperationHandle"))
        return self._metadata(op)

    def FetchResults(self, req):
        op = self._operation(req.operationHandle)
        if op is None or op.result is None:
            return ttypes.TFetchResultsResp(status=self._invalid("OperationHandle"))
        resp = self._fetch(op, req.maxRows or 100000)
        if req.includeResultSetMetadata:
            resp.resultSetMetadata = self._metadata(op)
        return resp

    def CancelOperation(self, req):
        op = self._operation(req.operationHandle)
        if op is None:
            return ttypes.TCancelOperationResp(status=self._invalid("OperationHandle"))
        op.state = S.CANCELED_STATE if op.state != S.FINISHED_STATE else op.state
        return ttypes.TCancelOperationResp(status=OK)

    def CloseOperation(self, req):
        with self._lock:
            op = self._operations.pop(req.operationHandle.operationId.guid, None)
        if op is None:
            return ttypes.TCloseOperationResp(status=self._invalid("OperationHandle"))
        return ttypes.TCloseOperationResp(status=OK)

    # -- helpers --------------------------------------------------------------------------
    def _session(self, handle) -> Session | None:
        with self._lock:
            return self._sessions.get(handle.sessionId.guid) if handle else None

    def _operation(self, handle) -> Operation | None:
        with self._lock:
            return self._operations.get(handle.operationId.guid) if handle else None

    @staticmethod
    def _invalid(what: str) -> ttypes.TStatus:
        return _error_status(f"Invalid {what}", code=ttypes.TStatusCode.INVALID_HANDLE_STATUS)

    @staticmethod
    def _status(op: Operation) -> ttypes.TGetOperationStatusResp:
        resp = ttypes.TGetOperationStatusResp(
            status=OK, operationState=op.state, hasResultSet=op.result is not None
        )
        if op.error is not None:
            resp.errorMessage = resp.displayMessage = op.error.display()
            resp.sqlState = op.error.sqlstate
            resp.errorCode = 0
            resp.diagnosticInfo = f"{op.error.error_class}: {op.error.message}"
        elif op.result is not None:
            resp.numModifiedRows = op.result.modified_rows
        return resp

    @staticmethod
    def _metadata(op: Operation) -> ttypes.TGetResultSetMetadataResp:
        schema: pa.Schema = op.result.table.schema
        return ttypes.TGetResultSetMetadataResp(
            status=OK,
            schema=results.table_schema(schema),
            resultFormat=ttypes.TSparkRowSetType.ARROW_BASED_SET,
            lz4Compressed=False,
            arrowSchema=results.arrow_schema_bytes(schema),
            isStagingOperation=op.result.staging,
        )

    @staticmethod
    def _fetch(op: Operation, max_rows: int) -> ttypes.TFetchResultsResp:
        with op.lock:
            rows, count = results.row_set(op.result.table, op.offset, max_rows)
            op.offset += count
            more = op.offset < op.result.table.num_rows
        return ttypes.TFetchResultsResp(status=OK, hasMoreRows=more, results=rows)


def process(processor: TCLIService.Processor, body: bytes, principal: str = "") -> bytes:
    """Run one Thrift binary-protocol call (an HTTP POST body) made by ``principal`` and return
    the reply body."""
    token = CALLER.set(principal)
    try:
        return _process(processor, body)
    finally:
        CALLER.reset(token)


def _process(processor: TCLIService.Processor, body: bytes) -> bytes:
    itrans = TTransport.TMemoryBuffer(body)
    otrans = TTransport.TMemoryBuffer()
    iprot = TBinaryProtocol.TBinaryProtocol(
        itrans, string_length_limit=None, container_length_limit=None
    )
    oprot = TBinaryProtocol.TBinaryProtocol(otrans)
    processor.process(iprot, oprot)
    return otrans.getvalue()
