package chat.node;

import static org.junit.jupiter.api.Assertions.assertThrows;

import chat.node.TestDatabase.FreshDatabase;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node told to use 127.0.0.1 (CHAT_BIND, CHAT_CLUSTER_HOST) listens there only: its client
 * ports and its Hazelcast port cannot be reached on the machine's other addresses.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(60)
class BindingTest {

  private static InetAddress otherAddress() throws IOException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address) {
          return address;
        }
      }
    }
    return null;
  }

  private static void connect(InetAddress host, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 2000);
    }
  }

  @Test
  void everyListenerIsOnTheConfiguredAddressOnly(FreshDatabase database) throws Exception {
    InetAddress other = otherAddress();
    Assumptions.assumeTrue(other != null, "this machine has no address besides loopback");
    try (TestNodes nodes = new TestNodes(database.url())) {
      ChatNode node = nodes.start();
      int clusterPort = nodes.clusterPorts().get(0);
      InetAddress loopback = InetAddress.getLoopbackAddress();
      for (int port : List.of(node.tcpPort(), node.httpPort(), clusterPort)) {
        connect(loopback, port);
        assertThrows(IOException.class, () -> connect(other, port),
            "port " + port + " answers on " + other);
      }
    }
  }
}
