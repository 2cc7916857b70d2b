package chat.node.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alert rules and the Grafana dashboard are well formed and use only series the nodes
 * export (those documented in docs/operations.md).
 */
class MonitoringFilesTest {

  private static final Pattern SERIES = Pattern.compile("\\bchat_[a-z_]+");
  private static final String DOCUMENTED = Manifests.read(Path.of("..", "docs", "operations.md"));

  private static Set<String> undocumented(String text) {
    Set<String> missing = new TreeSet<>();
    Matcher m = SERIES.matcher(text);
    while (m.find()) {
      String name = m.group().replaceAll("_(bucket|sum|count)$", "");
      if (!DOCUMENTED.contains("`" + name + "`")) {
        missing.add(name);
      }
    }
    return missing;
  }

  @Test
  void alertRulesAreWellFormedAndUseExportedSeries() throws Exception {
    JsonNode rules = Manifests.YAML.readTree(Path.of("prometheus", "chat-alerts.yaml").toFile());
    int count = 0;
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        String name = rule.path("alert").asText();
        assertFalse(name.isEmpty(), "every rule is an alert: " + rule);
        assertFalse(rule.path("expr").asText().isBlank(), name + " has an expr");
        assertTrue(Set.of("page", "warn", "info").contains(rule.path("labels").path("severity").asText()),
            name + " has a severity");
        assertFalse(rule.path("annotations").path("summary").asText().isBlank(), name + " has a summary");
        assertEquals(Set.of(), undocumented(rule.path("expr").asText()), name);
        count++;
      }
    }
    assertTrue(count >= 8, "alert rules: " + count);
  }

  @Test
  void theDashboardIsValidJsonAndUsesExportedSeries() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Path.of("grafana", "chat-dashboard.json").toFile());
    assertEquals("chat-cluster", dashboard.path("uid").asText());
    StringBuilder exprs = new StringBuilder();
    for (JsonNode panel : dashboard.path("panels")) {
      assertFalse(panel.path("targets").isEmpty(), panel.path("title").asText() + " has queries");
      panel.path("targets").forEach(t -> exprs.append(t.path("expr").asText()).append('\n'));
    }
    assertEquals(Set.of(), undocumented(exprs.toString()));
  }
}
