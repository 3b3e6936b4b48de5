"""Delta table properties as Databricks checks them in TBLPROPERTIES: a ``delta.`` key Delta does
not know is refused (``DELTA_UNKNOWN_CONFIGURATION``); other keys are the user's own and kept.

The known keys are Delta's documented table properties (docs.delta.io, "Delta table properties
reference", and Databricks' additions). Values are not checked here.
"""

from __future__ import annotations

from . import errors

KNOWN_DELTA_PROPERTIES = frozenset(
    {
        "delta.appendonly",
        "delta.autooptimize.autocompact",
        "delta.autooptimize.optimizewrite",
        "delta.checkpoint.writestatsasjson",
        "delta.checkpoint.writestatsasstruct",
        "delta.checkpointinterval",
        "delta.checkpointpolicy",
        "delta.columnmapping.mode",
        "delta.compatibility.symlinkformatmanifest.enabled",
        "delta.dataskippingnumindexedcols",
        "delta.dataskippingstatscolumns",
        "delta.deletedfileretentionduration",
        "delta.enablechangedatafeed",
        "delta.enabledeletionvectors",
        "delta.enableicebergcompatv1",
        "delta.enableicebergcompatv2",
        "delta.enablerowtracking",
        "delta.enabletypewidening",
        "delta.isolationlevel",
        "delta.logretentionduration",
        "delta.minreaderversion",
        "delta.minwriterversion",
        "delta.parquet.compression.codec",
        "delta.randomizefileprefixes",
        "delta.randomprefixlength",
        "delta.settransactionretentionduration",
        "delta.targetfilesize",
        "delta.tunefilesizesforrewrites",
        "delta.universalformat.enabledformats",
        "delta.enableincommittimestamps",
        "delta.checkpoint.partsize",
    }
)
FEATURE_PREFIX = "delta.feature."


def check(properties: dict[str, str]) -> None:
    """Raise the Databricks error for the first unknown ``delta.`` property."""
    for key in properties:
        lower = key.lower()
        if (
            lower.startswith("delta.")
            and lower not in KNOWN_DELTA_PROPERTIES
            and not lower.startswith(FEATURE_PREFIX)
        ):
            raise errors.DatabricksSQLError(
                "DELTA_UNKNOWN_CONFIGURATION",
                f"Unknown configuration was specified: {key}\nTo disable this check, set "
                "spark.databricks.delta.allowArbitraryProperties.enabled=true in the Spark "
                "session configuration.",
                "F0000",
            )
