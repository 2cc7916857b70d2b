package chat.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** One scrape of a node's {@code /metrics}: Prometheus text, read into series and values. */
final class Scrape {

  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private final Map<String, Double> series = new LinkedHashMap<>();

  private Scrape(String text) {
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
  }

  static Scrape of(int port) {
    return new Scrape(get(port, "/metrics").body());
  }

  static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The sum of every series named {@code name} carrying all the given labels
   * ({@code "transport", "tcp", ...}); 0 when there is none.
   */
  double value(String name, String... labels) {
    double sum = 0;
    for (Map.Entry<String, Double> e : series.entrySet()) {
      String key = e.getKey();
      int brace = key.indexOf('{');
      String seriesName = brace < 0 ? key : key.substring(0, brace);
      if (!seriesName.equals(name)) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        if (!key.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
          all = false;
        }
      }
      if (all) {
        sum += e.getValue();
      }
    }
    return sum;
  }

  /** Whether any series of that name exists. */
  boolean has(String name) {
    return series.keySet().stream()
        .anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
  }

  /** The names of the series, without labels. */
  java.util.Set<String> names() {
    java.util.Set<String> names = new java.util.TreeSet<>();
    series.keySet().forEach(k -> names.add(k.indexOf('{') < 0 ? k : k.substring(0, k.indexOf('{'))));
    return names;
  }

  @Override
  public String toString() {
    return series.toString();
  }
}
