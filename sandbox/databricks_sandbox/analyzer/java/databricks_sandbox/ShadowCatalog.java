package databricks_sandbox;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.NonEmptyNamespaceException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.CatalogV2Util;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.NamespaceChange;
import org.apache.spark.sql.connector.catalog.SupportsNamespaces;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCatalog;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A Unity Catalog catalog as Spark's analyzer sees it: schemas and the columns of their tables,
 * no data. The simulator keeps it equal to what it holds on DuckDB (one instance per Databricks
 * catalog, registered as {@code spark.sql.catalog.<name>}); statements are only analysed against
 * it, never executed. Names are case-insensitive and kept in lower case, as Unity Catalog does.
 */
public class ShadowCatalog implements TableCatalog, SupportsNamespaces {
  private String name;
  private final Map<String, Map<String, String>> schemas = new ConcurrentHashMap<>();
  private final Map<String, ShadowTable> tables = new ConcurrentHashMap<>();

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String[] defaultNamespace() {
    return new String[] {"default"};
  }

  private static String schemaKey(String[] namespace) {
    return String.join(".", namespace).toLowerCase();
  }

  private static String tableKey(Identifier ident) {
    return schemaKey(ident.namespace()) + "\u0000" + ident.name().toLowerCase();
  }

  private void requireSchema(String[] namespace) throws NoSuchNamespaceException {
    if (!schemas.containsKey(schemaKey(namespace))) {
      throw new NoSuchNamespaceException(prefixed(namespace));
    }
  }

  private String[] prefixed(String[] namespace) {
    String[] parts = new String[namespace.length + 1];
    parts[0] = name;
    System.arraycopy(namespace, 0, parts, 1, namespace.length);
    return parts;
  }

  // -- tables -----------------------------------------------------------------------------

  @Override
  public Identifier[] listTables(String[] namespace) throws NoSuchNamespaceException {
    requireSchema(namespace);
    String prefix = schemaKey(namespace) + "\u0000";
    List<Identifier> found = new ArrayList<>();
    for (String key : tables.keySet()) {
      if (key.startsWith(prefix)) {
        found.add(Identifier.of(namespace, key.substring(prefix.length())));
      }
    }
    return found.toArray(new Identifier[0]);
  }

  @Override
  public Table loadTable(Identifier ident) throws NoSuchTableException {
    ShadowTable table = tables.get(tableKey(ident));
    if (table == null) {
      throw new NoSuchTableException(ident);
    }
    return table;
  }

  @Override
  public Table createTable(Identifier ident, Column[] columns, Transform[] partitions,
      Map<String, String> properties)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    requireSchema(ident.namespace());
    String key = tableKey(ident);
    if (tables.containsKey(key)) {
      throw new TableAlreadyExistsException(ident);
    }
    ShadowTable table = new ShadowTable(qualifiedName(ident),
        CatalogV2Util.v2ColumnsToStructType(columns), partitions, new HashMap<>(properties));
    tables.put(key, table);
    return table;
  }

  @Override
  public Table alterTable(Identifier ident, TableChange... changes) throws NoSuchTableException {
    ShadowTable table = (ShadowTable) loadTable(ident);
    scala.collection.immutable.Seq<TableChange> seq =
        CollectionConverters.asScala(Arrays.asList(changes)).toSeq();
    StructType schema = CatalogV2Util.applySchemaChanges(table.schema(), seq,
        Option.apply(table.properties().get(TableCatalog.PROP_PROVIDER)), "ALTER TABLE");
    Map<String, String> properties = CatalogV2Util.applyPropertiesChanges(table.properties(), seq);
    ShadowTable altered = new ShadowTable(table.name(), schema, table.partitioning(),
        new HashMap<>(properties));
    tables.put(tableKey(ident), altered);
    return altered;
  }

  @Override
  public boolean dropTable(Identifier ident) {
    return tables.remove(tableKey(ident)) != null;
  }

  @Override
  public void renameTable(Identifier oldIdent, Identifier newIdent)
      throws NoSuchTableException, TableAlreadyExistsException {
    ShadowTable table = (ShadowTable) loadTable(oldIdent);
    if (tables.containsKey(tableKey(newIdent))) {
      throw new TableAlreadyExistsException(newIdent);
    }
    tables.remove(tableKey(oldIdent));
    tables.put(tableKey(newIdent), new ShadowTable(qualifiedName(newIdent), table.schema(),
        table.partitioning(), new HashMap<>(table.properties())));
  }

  private String qualifiedName(Identifier ident) {
    List<String> parts = new ArrayList<>();
    parts.add(name);
    for (String part : ident.namespace()) {
      parts.add(part.toLowerCase());
    }
    parts.add(ident.name().toLowerCase());
    return String.join(".", parts);
  }

  /**
   * Mirror one schema as the simulator holds it: exactly these tables, each with its columns as
   * a Spark DDL column list ({@code `a` STRING NOT NULL, `b` DECIMAL(38,6)}).
   */
  public void mirrorSchema(String schema, Map<String, String> tableColumns) {
    String lower = schema.toLowerCase();
    schemas.putIfAbsent(lower, new HashMap<>());
    tables.keySet().removeIf(key -> key.startsWith(lower + "\u0000"));
    for (Map.Entry<String, String> entry : tableColumns.entrySet()) {
      Identifier ident = Identifier.of(new String[] {lower}, entry.getKey().toLowerCase());
      tables.put(tableKey(ident), new ShadowTable(qualifiedName(ident),
          StructType.fromDDL(entry.getValue()), new Transform[0], new HashMap<>()));
    }
  }

  /** Forget one schema and its tables (no error if it is not there). */
  public void forgetSchema(String schema) {
    String lower = schema.toLowerCase();
    schemas.remove(lower);
    tables.keySet().removeIf(key -> key.startsWith(lower + "\u0000"));
  }

  // -- schemas ----------------------------------------------------------------------------

  @Override
  public String[][] listNamespaces() {
    return schemas.keySet().stream().sorted().map(s -> new String[] {s}).toArray(String[][]::new);
  }

  @Override
  public String[][] listNamespaces(String[] namespace) throws NoSuchNamespaceException {
    if (namespace.length == 0) {
      return listNamespaces();
    }
    requireSchema(namespace);
    return new String[0][];
  }

  @Override
  public boolean namespaceExists(String[] namespace) {
    return schemas.containsKey(schemaKey(namespace));
  }

  @Override
  public Map<String, String> loadNamespaceMetadata(String[] namespace)
      throws NoSuchNamespaceException {
    requireSchema(namespace);
    return schemas.get(schemaKey(namespace));
  }

  @Override
  public void createNamespace(String[] namespace, Map<String, String> metadata)
      throws NamespaceAlreadyExistsException {
    if (schemas.putIfAbsent(schemaKey(namespace), new HashMap<>(metadata)) != null) {
      throw new NamespaceAlreadyExistsException(prefixed(namespace));
    }
  }

  @Override
  public void alterNamespace(String[] namespace, NamespaceChange... changes)
      throws NoSuchNamespaceException {
    requireSchema(namespace);
  }

  @Override
  public boolean dropNamespace(String[] namespace, boolean cascade)
      throws NoSuchNamespaceException, NonEmptyNamespaceException {
    requireSchema(namespace);
    if (!cascade && listTables(namespace).length > 0) {
      throw new NonEmptyNamespaceException(prefixed(namespace));
    }
    forgetSchema(schemaKey(namespace));
    return true;
  }
}
