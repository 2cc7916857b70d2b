package chat.gateway;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/** TLS of the client listeners from PEM files (CHAT_TLS_CERT, CHAT_TLS_KEY). */
public final class TlsOptions {

  /** How long a client may take over its TLS handshake. */
  public static final int HANDSHAKE_TIMEOUT_SECONDS = 10;

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
    options.setSsl(true).setKeyCertOptions(pem(config));
    options.setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS);
    return options;
  }

  /**
   * The same certificate and key as a Netty context, for a listener built on Netty itself
   * (the PEM files read as Vert.x reads them); TLS 1.2 and 1.3, as the Vert.x listeners.
   * Only for a config with {@link GatewayConfig#tls()}.
   */
  public static SslContext sslContext(GatewayConfig config, Vertx vertx) {
    PemKeyCertOptions pem = pem(config);
    try {
      return SslContextBuilder.forServer(pem.getKeyManagerFactory(vertx))
          .sslProvider(SslProvider.JDK)
          .protocols("TLSv1.3", "TLSv1.2")
          .build();
    } catch (Exception e) {
      throw new IllegalArgumentException("TLS certificate or key not usable ("
          + config.tlsCertPath() + ", " + config.tlsKeyPath() + "): " + e.getMessage(), e);
    }
  }

  private static PemKeyCertOptions pem(GatewayConfig config) {
    for (String file : new String[] {config.tlsCertPath(), config.tlsKeyPath()}) {
      if (!Files.isReadable(Path.of(file))) {
        throw new IllegalArgumentException("TLS file not readable: " + file);
      }
    }
    return new PemKeyCertOptions()
        .setCertPath(config.tlsCertPath())
        .setKeyPath(config.tlsKeyPath());
  }
}
