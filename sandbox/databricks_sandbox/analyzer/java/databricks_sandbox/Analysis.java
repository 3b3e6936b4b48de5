package databricks_sandbox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.catalyst.analysis.EliminateSubqueryAliases$;
import org.apache.spark.sql.catalyst.analysis.NameParameterizedQuery;
import org.apache.spark.sql.catalyst.analysis.PosParameterizedQuery;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.EvalMode;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.optimizer.ConstantFolding$;
import org.apache.spark.sql.catalyst.optimizer.ConvertToLocalRelation$;
import org.apache.spark.sql.catalyst.optimizer.EvalInlineTables$;
import org.apache.spark.sql.catalyst.parser.ParserInterface;
import org.apache.spark.sql.catalyst.plans.logical.CreateView;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.classic.SparkSession;
import org.apache.spark.sql.connector.catalog.CatalogManager;
import org.apache.spark.sql.execution.CommandExecutionMode;
import org.apache.spark.sql.execution.QueryExecution;
import org.apache.spark.sql.internal.SessionState;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Spark's parser and analyzer applied to one statement, in one call from Python: the session's
 * current catalog and schema set, native parameters bound, the statement parsed and analysed
 * (commands are not executed), then the constant parts evaluated as Spark's optimizer would (so
 * an ANSI cast failure in literal rows is found). Answers a JSON object: {"ok": true} or
 * {"ok": false, "condition", "sqlstate", "message"} with Spark's own error.
 */
public final class Analysis {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static volatile SparkSession root;

  private Analysis() {}

  /** The session other simulators' sessions are made from (a shared JVM, see host.py). */
  public static void setRoot(SparkSession session) {
    root = session;
  }

  /** A session of its own (conf, catalogs, current namespace) on the shared JVM. */
  public static SparkSession newSession() {
    return root.newSession();
  }

  /**
   * The shadow catalog {@code name} of {@code session}, registered if new. Spark reads its
   * configuration from the thread's active session, so that is set first (as before analysing).
   */
  public static ShadowCatalog catalog(SparkSession session, String name) {
    SparkSession.setActiveSession(session);
    session.conf().set("spark.sql.catalog." + name, ShadowCatalog.class.getName());
    return (ShadowCatalog) session.sessionState().catalogManager().catalog(name);
  }

  public static String analyze(SparkSession spark, String catalog, String schema, String sql,
      List<String> names, List<String> types, List<String> values) {
    Map<String, Object> answer = new LinkedHashMap<>();
    try {
      SparkSession.setActiveSession(spark);
      SessionState state = spark.sessionState();
      useNamespace(state.catalogManager(), catalog, schema);
      ParserInterface parser = state.sqlParser();
      LogicalPlan plan = parser.parsePlan(sql);
      if (plan instanceof CreateView) {
        // Spark keeps views in its own session catalog only; what Databricks checks is the query.
        plan = ((CreateView) plan).query();
      }
      plan = bind(plan, names, types, values, spark.sessionState().conf().sessionLocalTimeZone());
      QueryExecution execution = state.executePlan(plan, CommandExecutionMode.SKIP());
      execution.assertAnalyzed();
      LogicalPlan folded = EliminateSubqueryAliases$.MODULE$.apply(execution.analyzed());
      folded = EvalInlineTables$.MODULE$.apply(folded);
      folded = ConvertToLocalRelation$.MODULE$.apply(folded);
      ConstantFolding$.MODULE$.apply(folded);
      answer.put("ok", true);
    } catch (Throwable error) {
      answer.put("ok", false);
      answer.put("java_class", error.getClass().getName());
      if (error instanceof SparkThrowable) {
        answer.put("condition", ((SparkThrowable) error).getCondition());
        answer.put("sqlstate", ((SparkThrowable) error).getSqlState());
      }
      answer.put("message", error instanceof AnalysisException
          ? ((AnalysisException) error).getSimpleMessage() : String.valueOf(error.getMessage()));
    }
    try {
      return JSON.writeValueAsString(answer);
    } catch (Exception impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  private static void useNamespace(CatalogManager manager, String catalog, String schema) {
    manager.setCurrentCatalog(catalog);
    try {
      manager.setCurrentNamespace(new String[] {schema});
    } catch (Exception droppedSchema) {
      // The session's schema was dropped since: unqualified names then fail to resolve.
    }
  }

  /** Bind native parameters as the typed literals the connector sent (type name + text). */
  private static LogicalPlan bind(LogicalPlan plan, List<String> names, List<String> types,
      List<String> values, String timeZone) {
    if (types.isEmpty()) {
      return plan;
    }
    List<Expression> literals = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) {
      DataType type = DataType.fromDDL(types.get(i));
      String text = values.get(i);
      if (text == null) {
        literals.add(Literal.create(null, type));
        continue;
      }
      Cast cast = new Cast(new Literal(UTF8String.fromString(text), org.apache.spark.sql.types.DataTypes.StringType), type,
          Option.apply(timeZone), EvalMode.ANSI());
      literals.add(new Literal(cast.eval(null), type));
    }
    scala.collection.immutable.Seq<Expression> args =
        CollectionConverters.asScala(literals).toSeq();
    if (names != null) {
      return new NameParameterizedQuery(plan, CollectionConverters.asScala(names).toSeq(), args);
    }
    return new PosParameterizedQuery(plan, args);
  }
}
