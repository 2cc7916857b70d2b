package chat.node.manifests;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Cross-references between the objects of one deployment: selectors that select pods,
 * ports that exist, env vars the node really reads, Secrets and ConfigMaps (and their keys)
 * that exist, pinned images, the chat node's stop and memory settings.
 */
final class ManifestChecks {

  /** A pod template and the workload it belongs to. */
  private record Pods(String owner, PodTemplateSpec template) {
    Map<String, String> labels() {
      Map<String, String> labels = template.getMetadata() == null ? null
          : template.getMetadata().getLabels();
      return labels == null ? Map.of() : labels;
    }

    List<Container> containers() {
      return template.getSpec().getContainers();
    }
  }

  private final Manifests manifests;
  private final Manifests external;
  private final Set<String> nodeVariables;
  private final List<String> errors = new ArrayList<>();

  private ManifestChecks(Manifests manifests, Manifests external, Set<String> nodeVariables) {
    this.manifests = manifests;
    this.external = external;
    this.nodeVariables = nodeVariables;
  }

  /** Every problem found: the schema errors of the reading and the broken references. */
  static List<String> check(Manifests manifests, Manifests external, Set<String> nodeVariables) {
    ManifestChecks checks = new ManifestChecks(manifests, external, nodeVariables);
    checks.errors.addAll(manifests.errors);
    checks.errors.addAll(external.errors);
    checks.run();
    return checks.errors;
  }

  /**
   * The CHAT_* variables the node can read: named as string literals in its sources, or as
   * {@code ${CHAT_...}} in its resources (the logging configuration).
   */
  static Set<String> variablesReadByTheNode(Path repositoryRoot) {
    Pattern literal = Pattern.compile("(?:\"|\\$\\{)(CHAT_[A-Z0-9_]+)[\":}]");
    Set<String> names = new HashSet<>();
    // Only the modules' src/main trees: build output comes and goes while tests run.
    try (Stream<Path> modules = Files.list(repositoryRoot)) {
      for (Path main : modules.map(m -> m.resolve("src").resolve("main")).filter(Files::isDirectory).toList()) {
        try (Stream<Path> files = Files.walk(main)) {
          files.filter(f -> f.toString().endsWith(".java") || f.toString().endsWith(".xml"))
              .forEach(f -> {
                Matcher m = literal.matcher(Manifests.read(f));
                while (m.find()) {
                  names.add(m.group(1));
                }
              });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return names;
  }

  private void run() {
    List<Pods> pods = new ArrayList<>();
    for (Deployment d : manifests.all(Deployment.class)) {
      pods.add(new Pods("Deployment/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
      selects("Deployment/" + d.getMetadata().getName(), d.getSpec().getSelector(),
          List.of(pods.get(pods.size() - 1)));
    }
    for (StatefulSet s : manifests.all(StatefulSet.class)) {
      pods.add(new Pods("StatefulSet/" + s.getMetadata().getName(), s.getSpec().getTemplate()));
      selects("StatefulSet/" + s.getMetadata().getName(), s.getSpec().getSelector(),
          List.of(pods.get(pods.size() - 1)));
      if (!names(Service.class).contains(s.getSpec().getServiceName())) {
        errors.add("StatefulSet/" + s.getMetadata().getName() + ": serviceName "
            + s.getSpec().getServiceName() + " is no Service");
      }
    }
    for (Service service : manifests.all(Service.class)) {
      services(service, pods);
    }
    for (PodDisruptionBudget pdb : manifests.all(PodDisruptionBudget.class)) {
      selects("PodDisruptionBudget/" + pdb.getMetadata().getName(), pdb.getSpec().getSelector(), pods);
    }
    for (NetworkPolicy policy : manifests.all(NetworkPolicy.class)) {
      networkPolicy(policy, pods);
    }
    for (HorizontalPodAutoscaler hpa : manifests.all(HorizontalPodAutoscaler.class)) {
      String target = hpa.getSpec().getScaleTargetRef().getKind() + "/"
          + hpa.getSpec().getScaleTargetRef().getName();
      if (pods.stream().noneMatch(p -> p.owner().equals(target))) {
        errors.add("HorizontalPodAutoscaler/" + hpa.getMetadata().getName() + ": scales "
            + target + ", which does not exist");
      }
    }
    for (RoleBinding binding : manifests.all(RoleBinding.class)) {
      if (!names(Role.class).contains(binding.getRoleRef().getName())) {
        errors.add("RoleBinding/" + binding.getMetadata().getName() + ": no Role "
            + binding.getRoleRef().getName());
      }
      binding.getSubjects().forEach(subject -> {
        if ("ServiceAccount".equals(subject.getKind())
            && !names(ServiceAccount.class).contains(subject.getName())) {
          errors.add("RoleBinding/" + binding.getMetadata().getName() + ": no ServiceAccount "
              + subject.getName());
        }
      });
    }
    for (Pods p : pods) {
      podSpec(p);
    }
  }

  private void services(Service service, List<Pods> pods) {
    String name = "Service/" + service.getMetadata().getName();
    Map<String, String> selector = service.getSpec().getSelector();
    if (selector == null || selector.isEmpty()) {
      errors.add(name + ": no selector");
      return;
    }
    List<Pods> selected = pods.stream()
        .filter(p -> p.labels().entrySet().containsAll(selector.entrySet())).toList();
    if (selected.isEmpty()) {
      errors.add(name + ": selector " + selector + " selects no pods");
      return;
    }
    for (ServicePort port : service.getSpec().getPorts()) {
      IntOrString target = port.getTargetPort() == null
          ? new IntOrString(port.getPort()) : port.getTargetPort();
      for (Pods p : selected) {
        if (!hasPort(p.containers(), target)) {
          errors.add(name + ": targetPort " + text(target) + " is no container port of " + p.owner());
        }
      }
    }
  }

  private void networkPolicy(NetworkPolicy policy, List<Pods> pods) {
    String name = "NetworkPolicy/" + policy.getMetadata().getName();
    List<Pods> selected = selects(name, policy.getSpec().getPodSelector(), pods);
    for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
      for (NetworkPolicyPort port : rule.getPorts()) {
        for (Pods p : selected) {
          if (port.getPort() != null && !hasPort(p.containers(), port.getPort())) {
            errors.add(name + ": port " + text(port.getPort()) + " is no container port of "
                + p.owner());
          }
        }
      }
      rule.getFrom().forEach(peer -> {
        if (peer.getPodSelector() != null && peer.getNamespaceSelector() == null) {
          selects(name + " (from)", peer.getPodSelector(), pods);
        }
      });
    }
  }

  /** The pods a selector picks; none is an error. */
  private List<Pods> selects(String owner, LabelSelector selector, List<Pods> pods) {
    Map<String, String> labels = selector == null || selector.getMatchLabels() == null
        ? Map.of() : selector.getMatchLabels();
    if (labels.isEmpty()) {
      errors.add(owner + ": empty selector");
      return List.of();
    }
    List<Pods> selected = pods.stream()
        .filter(p -> p.labels().entrySet().containsAll(labels.entrySet())).toList();
    if (selected.isEmpty()) {
      errors.add(owner + ": selector " + labels + " selects no pods");
    }
    return selected;
  }

  private void podSpec(Pods p) {
    var spec = p.template().getSpec();
    if (spec.getServiceAccountName() != null
        && !names(ServiceAccount.class).contains(spec.getServiceAccountName())) {
      errors.add(p.owner() + ": no ServiceAccount " + spec.getServiceAccountName());
    }
    for (Container c : p.containers()) {
      String where = p.owner() + " container " + c.getName();
      image(where, c.getImage());
      for (EnvFromSource from : c.getEnvFrom()) {
        if (from.getConfigMapRef() != null) {
          ConfigMap map = configMap(from.getConfigMapRef().getName());
          if (map == null) {
            errors.add(where + ": envFrom ConfigMap " + from.getConfigMapRef().getName() + " does not exist");
          } else if (map.getData() != null) {
            map.getData().keySet().forEach(key -> variable(where + " (ConfigMap " + map.getMetadata().getName() + ")", key));
          }
        }
        if (from.getSecretRef() != null && secretKeys(from.getSecretRef().getName()) == null) {
          errors.add(where + ": envFrom Secret " + from.getSecretRef().getName() + " does not exist");
        }
      }
      for (EnvVar env : c.getEnv()) {
        variable(where, env.getName());
        if (env.getValueFrom() != null && env.getValueFrom().getSecretKeyRef() != null) {
          var ref = env.getValueFrom().getSecretKeyRef();
          Set<String> keys = secretKeys(ref.getName());
          boolean optional = Boolean.TRUE.equals(ref.getOptional());
          if (keys == null) {
            errors.add(where + ": env " + env.getName() + " reads Secret " + ref.getName()
                + ", which does not exist");
          } else if (!optional && !keys.contains(ref.getKey())) {
            errors.add(where + ": env " + env.getName() + " reads key " + ref.getKey()
                + " that Secret " + ref.getName() + " lacks");
          }
        }
        if (env.getValueFrom() != null && env.getValueFrom().getConfigMapKeyRef() != null
            && configMap(env.getValueFrom().getConfigMapKeyRef().getName()) == null) {
          errors.add(where + ": env " + env.getName() + " reads a ConfigMap that does not exist");
        }
      }
      for (Probe probe : new Probe[] {c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe()}) {
        if (probe != null && probe.getHttpGet() != null && !hasPort(List.of(c), probe.getHttpGet().getPort())) {
          errors.add(where + ": probe port " + text(probe.getHttpGet().getPort()) + " is no container port");
        }
        if (probe != null && probe.getTcpSocket() != null && !hasPort(List.of(c), probe.getTcpSocket().getPort())) {
          errors.add(where + ": probe port " + text(probe.getTcpSocket().getPort()) + " is no container port");
        }
      }
      if (c.getImage() != null && c.getImage().contains("chat-node")) {
        chatNode(p, c, where);
      }
    }
  }

  /** What a chat node needs: readiness, a preStop before the drain, room to drain, memory budget. */
  private void chatNode(Pods p, Container c, String where) {
    if (c.getReadinessProbe() == null) {
      errors.add(where + ": no readinessProbe");
    }
    if (c.getLifecycle() == null || c.getLifecycle().getPreStop() == null) {
      errors.add(where + ": no preStop hook (readiness must turn before the drain)");
    } else if (c.getLifecycle().getPreStop().getHttpGet() != null
        && !hasPort(List.of(c), c.getLifecycle().getPreStop().getHttpGet().getPort())) {
      errors.add(where + ": preStop port is no container port");
    }
    Long grace = p.template().getSpec().getTerminationGracePeriodSeconds();
    if (grace == null || grace < 30) {
      errors.add(where + ": terminationGracePeriodSeconds must leave 30 s for preStop and drain");
    }
    boolean memoryLimit = c.getResources() != null && c.getResources().getLimits() != null
        && c.getResources().getLimits().containsKey("memory");
    String javaOptions = c.getEnv().stream().filter(e -> e.getName().equals("JDK_JAVA_OPTIONS"))
        .map(EnvVar::getValue).filter(Objects::nonNull).findFirst().orElse("");
    if (!memoryLimit) {
      errors.add(where + ": no memory limit");
    } else if (!javaOptions.contains("-XX:MaxDirectMemorySize")) {
      errors.add(where + ": memory limit without -XX:MaxDirectMemorySize in JDK_JAVA_OPTIONS");
    }
  }

  private void image(String where, String image) {
    if (image == null) {
      errors.add(where + ": no image");
      return;
    }
    int slash = image.lastIndexOf('/');
    int colon = image.lastIndexOf(':');
    if (colon < slash || colon < 0 && !image.contains("@sha256:")) {
      errors.add(where + ": image " + image + " has no tag");
    } else if (image.endsWith(":latest")) {
      errors.add(where + ": image " + image + " uses the tag latest");
    }
  }

  private void variable(String where, String name) {
    if (name.startsWith("CHAT_") && !nodeVariables.contains(name)) {
      errors.add(where + ": " + name + " is not read by the node");
    }
  }

  private ConfigMap configMap(String name) {
    return Stream.concat(manifests.all(ConfigMap.class).stream(), external.all(ConfigMap.class).stream())
        .filter(m -> generated(m.getMetadata().getName(), name)).findFirst().orElse(null);
  }

  /** The keys of a Secret in the objects or among the external ones; null when there is none. */
  private Set<String> secretKeys(String name) {
    for (Secret s : Stream.concat(manifests.all(Secret.class).stream(),
        external.all(Secret.class).stream()).toList()) {
      if (generated(s.getMetadata().getName(), name)) {
        Set<String> keys = new HashSet<>();
        if (s.getData() != null) {
          keys.addAll(s.getData().keySet());
        }
        if (s.getStringData() != null) {
          keys.addAll(s.getStringData().keySet());
        }
        return keys;
      }
    }
    return null;
  }

  /** Names are equal (rendered output has the same hashed name on both sides). */
  private static boolean generated(String actual, String referenced) {
    return actual.equals(referenced);
  }

  private <T extends io.fabric8.kubernetes.api.model.HasMetadata> Set<String> names(Class<T> type) {
    Set<String> names = new HashSet<>();
    manifests.all(type).forEach(o -> names.add(o.getMetadata().getName()));
    return names;
  }

  private static boolean hasPort(List<Container> containers, IntOrString port) {
    Map<String, Integer> ports = new HashMap<>();
    for (Container c : containers) {
      for (ContainerPort p : c.getPorts()) {
        ports.put(p.getName() == null ? "#" + p.getContainerPort() : p.getName(), p.getContainerPort());
      }
    }
    return port.getStrVal() != null ? ports.containsKey(port.getStrVal())
        : ports.containsValue(port.getIntVal());
  }

  private static String text(IntOrString port) {
    return port.getStrVal() != null ? port.getStrVal() : String.valueOf(port.getIntVal());
  }
}
