package chat.node.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes overlays, checked offline: every object against the Kubernetes schema
 * (fabric8's model; an unknown field fails) and the references between objects. Read
 * without a renderer always; also rendered with {@code kubectl kustomize} when kubectl is
 * installed. A deliberately broken copy must fail.
 */
class KubernetesManifestsTest {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesManifestsTest.class);
  private static final Path K8S = Path.of("k8s");
  private static final Set<String> NODE_VARIABLES =
      ManifestChecks.variablesReadByTheNode(Path.of("..").toAbsolutePath().normalize());

  /** The objects an operator creates before applying the overlay (*.example.yaml). */
  private static Manifests externals(Path overlay) throws IOException {
    try (Stream<Path> files = Files.list(overlay)) {
      return Manifests.files(files.filter(f -> f.getFileName().toString().endsWith(".example.yaml")).toList());
    }
  }

  private static List<String> offline(Path overlay) throws IOException {
    return ManifestChecks.check(Manifests.assemble(overlay), externals(overlay), NODE_VARIABLES);
  }

  private static List<String> rendered(Path overlay) throws Exception {
    Process kubectl;
    try {
      kubectl = new ProcessBuilder("kubectl", "kustomize", overlay.toString())
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      Assumptions.abort("kubectl is not installed: the rendered check is skipped (the offline one ran)");
      return List.of();
    }
    String yaml = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS));
    if (kubectl.exitValue() != 0) {
      return List.of("kubectl kustomize " + overlay + " failed");
    }
    return ManifestChecks.check(Manifests.rendered(yaml, "kubectl kustomize " + overlay),
        externals(overlay), NODE_VARIABLES);
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void everyOverlayFitsTheSchemaAndItsReferencesHold(String overlay) throws Exception {
    assertTrue(NODE_VARIABLES.contains("CHAT_DB_URL") && NODE_VARIABLES.contains("CHAT_INTERNAL_PORT"),
        "the node's variables were found: " + NODE_VARIABLES);
    assertEquals(List.of(), offline(K8S.resolve(overlay)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void everyOverlayAsKubectlRendersItFitsTheSchemaToo(String overlay) throws Exception {
    assertEquals(List.of(), rendered(K8S.resolve(overlay)));
  }

  @Test
  void theImageTheBuildTagsIsTheOneTheManifestsName() throws IOException {
    java.util.regex.Matcher tag = java.util.regex.Pattern
        .compile("<chat.image.tag>([^<]+)</chat.image.tag>").matcher(Files.readString(Path.of("pom.xml")));
    assertTrue(tag.find(), "deploy/pom.xml names the image tag");
    for (String kustomization : List.of("base/kustomization.yaml",
        "overlays/single/kustomization.yaml", "overlays/cluster/kustomization.yaml")) {
      String text = Files.readString(K8S.resolve(kustomization));
      java.util.regex.Matcher named = java.util.regex.Pattern.compile("newTag: \"([^\"]+)\"").matcher(text);
      while (named.find()) {
        assertEquals(tag.group(1), named.group(1), kustomization + " names the tag the build gives");
      }
    }
  }

  @Test
  void theOverlaysHaveWhatTheyPromise() throws IOException {
    Manifests single = Manifests.assemble(K8S.resolve("overlays/single"));
    assertTrue(single.objects.stream().anyMatch(o -> o.kind().equals("StatefulSet")
        && o.name().equals("chat-mariadb")), "single runs MariaDB");
    Manifests cluster = Manifests.assemble(K8S.resolve("overlays/cluster"));
    assertTrue(cluster.objects.stream().anyMatch(o -> o.kind().equals("HorizontalPodAutoscaler")));
    assertTrue(cluster.objects.stream().noneMatch(o -> o.kind().equals("Secret")),
        "cluster takes its database URL from a Secret the operator creates");
    // a pod cut off alone from the other two must stop serving, not show them offline
    java.util.Map<String, String> settings = cluster.objects.stream()
        .filter(o -> o.kind().equals("ConfigMap") && o.name().equals("chat-node-config"))
        .map(o -> ((io.fabric8.kubernetes.api.model.ConfigMap) o.model()).getData())
        .findFirst().orElseThrow();
    assertEquals("2", settings.get("CHAT_CLUSTER_QUORUM"), "cluster sets a quorum");
    assertTrue(Integer.parseInt(settings.get("CHAT_NODE_LOSS_S")) >= 4,
        "a quorum needs CHAT_NODE_LOSS_S of 4 s or more");
  }

  /** A copy of deploy/k8s with one file changed. */
  private static Path brokenCopy(Path dir, String file, String from, String to) throws IOException {
    try (Stream<Path> all = Files.walk(K8S)) {
      for (Path source : all.toList()) {
        Path target = dir.resolve(K8S.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
    Path changed = dir.resolve(file);
    String text = Files.readString(changed);
    assertTrue(text.contains(from), file + " contains " + from);
    Files.writeString(changed, text.replaceFirst(java.util.regex.Pattern.quote(from),
        java.util.regex.Matcher.quoteReplacement(to)));
    return dir;
  }

  /** File, text, its broken replacement, and what the error must say. */
  static Stream<Arguments> breakages() {
    return Stream.of(
        Arguments.of("base/deployment.yaml", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSecond: 40", "unknown field(s) [terminationGracePeriodSecond]"),
        Arguments.of("base/service.yaml", "targetPort: chat-tcp", "targetPort: chat-tpc", "targetPort chat-tpc is no container port"),
        Arguments.of("base/service.yaml", "  selector:\n    app.kubernetes.io/name: chat-node", "  selector:\n    app.kubernetes.io/name: chat-nodes", "selects no pods"),
        Arguments.of("base/chat-node.env", "CHAT_TCP_PORT=6000", "CHAT_TCP_PROT=6000", "CHAT_TCP_PROT is not read by the node"),
        Arguments.of("base/deployment.yaml", "name: chat-node-secrets", "name: chat-node-secret", "Secret chat-node-secret, which does not exist"),
        Arguments.of("base/deployment.yaml", "key: CHAT_DB_URL", "key: CHAT_DB_URI", "lacks"),
        Arguments.of("overlays/single/kustomization.yaml", "newTag: \"1.0.0\"", "newTag: latest", "uses the tag latest"),
        Arguments.of("base/deployment.yaml", "port: internal\n            periodSeconds: 2", "port: metrics\n            periodSeconds: 2", "probe port metrics is no container port"),
        Arguments.of("base/deployment.yaml", "-XX:MaxDirectMemorySize=192m", "-Xmx600m", "without -XX:MaxDirectMemorySize"),
        Arguments.of("base/pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1", "must be apiVersion policy/v1"),
        Arguments.of("overlays/single/mariadb.yaml", "serviceName: chat-mariadb", "serviceName: mariadb", "serviceName mariadb is no Service"),
        Arguments.of("base/networkpolicy.yaml", "        - port: http\n", "        - port: https\n", "port https is no container port"));
  }

  @ParameterizedTest
  @MethodSource("breakages")
  void aBrokenCopyFails(String file, String from, String to, String expected, @TempDir Path dir)
      throws Exception {
    Path copy = brokenCopy(dir, file, from, to);
    List<String> errors = offline(copy.resolve("overlays/single"));
    LOG.info("broken {}: {}", file, errors);
    assertTrue(errors.stream().anyMatch(e -> e.contains(expected)),
        "expected an error with '" + expected + "', got " + errors);
  }
}
