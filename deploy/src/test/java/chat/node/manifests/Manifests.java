package chat.node.manifests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.databind.MappingIterator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Kubernetes objects of one kustomization, read without a renderer: a small reading of
 * kustomize's fields that the project uses (resources, namespace, replicas, images,
 * configMapGenerator, secretGenerator, labels); any other field is reported, so the offline
 * check never silently skips something. Each object is read into the fabric8 model of its
 * kind and a field the model does not know is an error.
 */
final class Manifests {

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Kinds the project uses, with the apiVersion each must have. */
  static final Map<String, Kind> KINDS = Map.ofEntries(
      Map.entry("Deployment", new Kind("apps/v1", Deployment.class)),
      Map.entry("StatefulSet", new Kind("apps/v1", StatefulSet.class)),
      Map.entry("Service", new Kind("v1", Service.class)),
      Map.entry("ConfigMap", new Kind("v1", ConfigMap.class)),
      Map.entry("Secret", new Kind("v1", Secret.class)),
      Map.entry("ServiceAccount", new Kind("v1", ServiceAccount.class)),
      Map.entry("Role", new Kind("rbac.authorization.k8s.io/v1", Role.class)),
      Map.entry("RoleBinding", new Kind("rbac.authorization.k8s.io/v1", RoleBinding.class)),
      Map.entry("PodDisruptionBudget", new Kind("policy/v1", PodDisruptionBudget.class)),
      Map.entry("HorizontalPodAutoscaler", new Kind("autoscaling/v2", HorizontalPodAutoscaler.class)),
      Map.entry("NetworkPolicy", new Kind("networking.k8s.io/v1", NetworkPolicy.class)));

  private static final Set<String> KUSTOMIZATION_FIELDS = Set.of("apiVersion", "kind",
      "resources", "namespace", "replicas", "images", "configMapGenerator", "secretGenerator",
      "labels");

  record Kind(String apiVersion, Class<?> model) {
  }

  /** One object: where it came from, its kind and name, and its fabric8 model. */
  record Obj(String source, String kind, String name, Object model) {
    @Override
    public String toString() {
      return kind + "/" + name + " (" + source + ")";
    }
  }

  final List<Obj> objects = new ArrayList<>();
  final List<String> errors = new ArrayList<>();

  /** Reads the kustomization in {@code dir} and everything it includes. */
  static Manifests assemble(Path dir) {
    Manifests manifests = new Manifests();
    for (ObjectNode doc : manifests.kustomize(dir)) {
      manifests.add(dir.toString(), doc);
    }
    return manifests;
  }

  /** Reads rendered output (kubectl kustomize). */
  static Manifests rendered(String yaml, String source) {
    Manifests manifests = new Manifests();
    for (ObjectNode doc : documents(yaml)) {
      manifests.add(source, doc);
    }
    return manifests;
  }

  /** Reads plain object files (no kustomization), e.g. the Secrets an operator creates. */
  static Manifests files(Collection<Path> files) {
    Manifests manifests = new Manifests();
    for (Path file : files) {
      for (ObjectNode doc : documents(read(file))) {
        manifests.add(file.toString(), doc);
      }
    }
    return manifests;
  }

  private List<ObjectNode> kustomize(Path dir) {
    Path file = dir.resolve("kustomization.yaml");
    if (!Files.exists(file)) {
      errors.add(dir + ": no kustomization.yaml");
      return List.of();
    }
    ObjectNode k = (ObjectNode) documents(read(file)).get(0);
    k.fieldNames().forEachRemaining(field -> {
      if (!KUSTOMIZATION_FIELDS.contains(field)) {
        errors.add(file + ": field '" + field + "' is not read by the offline check");
      }
    });
    List<ObjectNode> docs = new ArrayList<>();
    for (JsonNode resource : k.path("resources")) {
      Path path = dir.resolve(resource.asText()).normalize();
      if (Files.isDirectory(path)) {
        docs.addAll(kustomize(path));
      } else if (Files.exists(path)) {
        documents(read(path)).forEach(d -> {
          d.put("__source", path.toString());
          docs.add(d);
        });
      } else {
        errors.add(file + ": resource " + resource.asText() + " does not exist");
      }
    }
    for (JsonNode generator : k.path("configMapGenerator")) {
      ObjectNode made = generated("ConfigMap", dir, file, generator);
      if (!generator.path("behavior").asText("create").equals("merge")) {
        docs.add(made);
        continue;
      }
      // an overlay's settings on top of the base's ConfigMap of the same name
      docs.stream()
          .filter(d -> d.path("kind").asText().equals("ConfigMap")
              && d.path("metadata").path("name").equals(made.path("metadata").path("name")))
          .findFirst()
          .ifPresentOrElse(base -> base.with("data").setAll((ObjectNode) made.path("data")),
              () -> errors.add(file + ": merges into ConfigMap "
                  + made.path("metadata").path("name").asText() + ", which no resource makes"));
    }
    for (JsonNode generator : k.path("secretGenerator")) {
      docs.add(generated("Secret", dir, file, generator));
    }
    String namespace = k.path("namespace").asText(null);
    for (ObjectNode doc : docs) {
      if (namespace != null) {
        ((ObjectNode) doc.with("metadata")).put("namespace", namespace);
      }
      for (JsonNode labels : k.path("labels")) {
        labels.path("pairs").fields().forEachRemaining(e ->
            ((ObjectNode) doc.with("metadata").with("labels")).set(e.getKey(), e.getValue()));
      }
      String kind = doc.path("kind").asText();
      String name = doc.path("metadata").path("name").asText();
      for (JsonNode replicas : k.path("replicas")) {
        if (replicas.path("name").asText().equals(name)
            && (kind.equals("Deployment") || kind.equals("StatefulSet"))) {
          doc.with("spec").set("replicas", replicas.path("count"));
        }
      }
      for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
        String image = container.path("image").asText();
        for (JsonNode rule : k.path("images")) {
          String bare = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
          if (bare.equals(rule.path("name").asText())) {
            String newName = rule.path("newName").asText(bare);
            String tag = rule.has("newTag") ? rule.path("newTag").asText()
                : image.contains(":") ? image.substring(image.lastIndexOf(':') + 1) : null;
            ((ObjectNode) container).put("image", tag == null ? newName : newName + ":" + tag);
          }
        }
      }
    }
    return docs;
  }

  /** A ConfigMap or Secret made by a generator (its name without kustomize's hash). */
  private ObjectNode generated(String kind, Path dir, Path file, JsonNode generator) {
    ObjectNode doc = YAML.createObjectNode();
    doc.put("apiVersion", "v1").put("kind", kind).put("__source", file.toString());
    doc.with("metadata").put("name", generator.path("name").asText());
    ObjectNode data = doc.with(kind.equals("Secret") ? "stringData" : "data");
    for (JsonNode env : generator.path("envs")) {
      Path envFile = dir.resolve(env.asText());
      if (!Files.exists(envFile)) {
        errors.add(file + ": env file " + env.asText() + " does not exist");
        continue;
      }
      for (String line : read(envFile).split("\n")) {
        String trimmed = line.strip();
        if (!trimmed.isEmpty() && !trimmed.startsWith("#") && trimmed.contains("=")) {
          data.put(trimmed.substring(0, trimmed.indexOf('=')), trimmed.substring(trimmed.indexOf('=') + 1));
        }
      }
    }
    for (JsonNode literal : generator.path("literals")) {
      String text = literal.asText();
      data.put(text.substring(0, text.indexOf('=')), text.substring(text.indexOf('=') + 1));
    }
    return doc;
  }

  private void add(String source, ObjectNode doc) {
    JsonNode from = doc.remove("__source");
    String where = from == null ? source : from.asText();
    String kind = doc.path("kind").asText();
    String name = doc.path("metadata").path("name").asText();
    Kind known = KINDS.get(kind);
    if (known == null) {
      errors.add(where + ": kind '" + kind + "' (" + name + ") is not one the checks know");
      return;
    }
    if (!known.apiVersion().equals(doc.path("apiVersion").asText())) {
      errors.add(where + ": " + kind + "/" + name + " must be apiVersion " + known.apiVersion()
          + ", is " + doc.path("apiVersion").asText());
    }
    Object model;
    try {
      model = YAML.treeToValue(doc, known.model());
    } catch (IOException | IllegalArgumentException e) {
      errors.add(where + ": " + kind + "/" + name + " does not fit the schema: " + e.getMessage());
      return;
    }
    unknownFields(model, kind + "/" + name, where, new IdentityHashMap<>());
    objects.add(new Obj(where, kind, name, model));
  }

  /** Every field the model did not know lands in an additionalProperties map: report it. */
  private void unknownFields(Object node, String path, String where, Map<Object, Boolean> seen) {
    if (node == null || seen.put(node, true) != null) {
      return;
    }
    if (node instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        unknownFields(item, path + "[" + i++ + "]", where, seen);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((key, value) -> unknownFields(value, path + "." + key, where, seen));
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Class<?> type = node.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers())) {
          continue;
        }
        field.setAccessible(true);
        Object value;
        try {
          value = field.get(node);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
        if (field.getName().equals("additionalProperties") && value instanceof Map<?, ?> extra) {
          if (!extra.isEmpty()) {
            errors.add(where + ": " + path + ": unknown field(s) " + extra.keySet());
          }
        } else {
          unknownFields(value, path + "." + field.getName(), where, seen);
        }
      }
    }
  }

  static List<ObjectNode> documents(String yaml) {
    List<ObjectNode> docs = new ArrayList<>();
    try (YAMLParser parser = (YAMLParser) YAML.getFactory().createParser(yaml);
         MappingIterator<JsonNode> it = YAML.readValues(parser, JsonNode.class)) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc instanceof ObjectNode object) {
          docs.add(object);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return docs;
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  <T> List<T> all(Class<T> type) {
    List<T> found = new ArrayList<>();
    for (Obj obj : objects) {
      if (type.isInstance(obj.model())) {
        found.add(type.cast(obj.model()));
      }
    }
    return found;
  }
}
