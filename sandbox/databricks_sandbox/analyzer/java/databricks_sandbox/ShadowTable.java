package databricks_sandbox;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.SupportsRowLevelOperations;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.RowLevelOperation;
import org.apache.spark.sql.connector.write.RowLevelOperationBuilder;
import org.apache.spark.sql.connector.write.RowLevelOperationInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A table's shape, as a Delta table presents it to the analyzer: readable, writable, and open to
 * row-level MERGE / UPDATE / DELETE (so those statements are resolved and type-checked the way
 * Spark resolves them for Delta). It holds no data: nothing is ever scanned or written.
 */
public class ShadowTable implements SupportsRead, SupportsWrite, SupportsRowLevelOperations {
  private static final Set<TableCapability> CAPABILITIES = EnumSet.of(
      TableCapability.BATCH_READ, TableCapability.BATCH_WRITE, TableCapability.TRUNCATE,
      TableCapability.OVERWRITE_BY_FILTER, TableCapability.OVERWRITE_DYNAMIC);

  private final String name;
  private final StructType schema;
  private final Transform[] partitioning;
  private final Map<String, String> properties;

  public ShadowTable(String name, StructType schema, Transform[] partitioning,
      Map<String, String> properties) {
    this.name = name;
    this.schema = schema;
    this.partitioning = partitioning;
    this.properties = properties;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public StructType schema() {
    return schema;
  }

  @Override
  public Transform[] partitioning() {
    return partitioning;
  }

  @Override
  public Map<String, String> properties() {
    return properties;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return CAPABILITIES;
  }

  private static UnsupportedOperationException analysisOnly() {
    return new UnsupportedOperationException(
        "the simulator's shadow catalog only analyses statements; DuckDB executes them");
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    throw analysisOnly();
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    throw analysisOnly();
  }

  @Override
  public RowLevelOperationBuilder newRowLevelOperationBuilder(RowLevelOperationInfo info) {
    RowLevelOperation.Command command = info.command();
    return () -> new RowLevelOperation() {
      @Override
      public Command command() {
        return command;
      }

      @Override
      public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        throw analysisOnly();
      }

      @Override
      public WriteBuilder newWriteBuilder(LogicalWriteInfo writeInfo) {
        throw analysisOnly();
      }
    };
  }
}
