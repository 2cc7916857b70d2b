package chat.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * CHAT_TLS_CERT / CHAT_TLS_KEY: TCP and WebSocket clients speak TLS with the node's PEM
 * certificate and chat; a plaintext client on the TLS ports gets nothing and is closed.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(90)
class TlsTest {

  @TempDir
  static Path dir;
  private static TestNodes nodes;
  private static ChatNode node;
  private static SSLContext tls;

  @BeforeAll
  static void start(FreshDatabase database) throws Exception {
    TestCertificate certificate = TestCertificate.create(dir);
    tls = certificate.clientContext();
    nodes = new TestNodes(database.url(), Map.of(
        "CHAT_TLS_CERT", certificate.cert.toString(),
        "CHAT_TLS_KEY", certificate.key.toString(),
        "CHAT_INTERNAL_PORT", "0"));
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  private static SSLSocket tlsSocket(int port) throws IOException {
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port);
    socket.startHandshake();
    return socket;
  }

  @Test
  void tcpAndWebSocketClientsLogInAndChatOverTls() throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(tls).build();
    try (SSLSocket socket = tlsSocket(node.tcpPort());
         TcpTestClient tcp = TcpTestClient.over(socket);
         WsTestClient ws = WsTestClient.connect(https,
             URI.create("wss://localhost:" + node.httpPort() + "/ws"))) {
      assertTrue(socket.getSession().getProtocol().startsWith("TLSv1."));
      int tcpId = tcp.register(TestNodes.unique("tls-tcp"), "pw");
      int wsId = ws.register(TestNodes.unique("tls-ws"), "pw");
      tcp.loginOk(tcpId, "pw");
      ws.loginOk(wsId, "pw");
      tcp.chat(wsId, "over TLS");
      assertEquals("over TLS", ws.expect(6).getString("msg"));
      ws.chat(tcpId, "and back");
      assertEquals("and back", tcp.expect(6).getString("msg"));
    }
  }

  @Test
  void plaintextOnTheTlsPortsIsRefused() throws Exception {
    for (int port : new int[] {node.tcpPort(), node.httpPort()}) {
      try (Socket plain = new Socket("127.0.0.1", port)) {
        plain.setSoTimeout(10_000);
        plain.getOutputStream().write(
            "{\"msgid\":4,\"name\":\"plain\",\"password\":\"pw\"}\nGET /ws HTTP/1.1\r\n\r\n"
                .getBytes(StandardCharsets.UTF_8));
        String answer = readToEnd(plain.getInputStream());
        assertFalse(answer.contains("msgid") || answer.contains("HTTP/1.1"),
            "a plaintext client got an answer: " + answer);
      }
    }
  }

  @Test
  void theInternalPortServesHealthAndMetricsInPlainHttpAndTheTlsPortDoesNot() throws Exception {
    assertEquals(200, Scrape.get(node.internalPort(), "/health/ready").statusCode());
    assertTrue(Scrape.of(node.internalPort()).has("chat_connections_opened_total"));
    HttpClient https = HttpClient.newBuilder().sslContext(tls).build();
    assertEquals(404, https.send(java.net.http.HttpRequest.newBuilder(
            URI.create("https://localhost:" + node.httpPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
    assertThrows(java.io.UncheckedIOException.class, () -> Scrape.get(node.httpPort(), "/health/ready"),
        "plain HTTP on the TLS port");
  }

  /** What the server sends until it closes the connection (a TLS alert at most). */
  private static String readToEnd(InputStream in) {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        seen.write(buffer, 0, n);
      }
    } catch (IOException e) {
      // reset by the server: closed as well
    }
    return seen.toString(StandardCharsets.ISO_8859_1);
  }
}
