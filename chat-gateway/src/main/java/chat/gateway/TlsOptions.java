package chat.gateway;

import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/** TLS of the client listeners from PEM files (CHAT_TLS_CERT, CHAT_TLS_KEY). */
public final class TlsOptions {

  private TlsOptions() {
  }

  /**
   * Makes the listener TLS-only when the config names a certificate and key; a file that
   * cannot be read stops the start with a message naming it.
   */
  public static <T extends NetServerOptions> T apply(T options, GatewayConfig config) {
    if (!config.tls()) {
      return options;
    }
    for (String file : new String[] {config.tlsCertPath(), config.tlsKeyPath()}) {
      if (!Files.isReadable(Path.of(file))) {
        throw new IllegalArgumentException("TLS file not readable: " + file);
      }
    }
    options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
        .setCertPath(config.tlsCertPath())
        .setKeyPath(config.tlsKeyPath()));
    options.setSslHandshakeTimeout(10);
    return options;
  }
}
