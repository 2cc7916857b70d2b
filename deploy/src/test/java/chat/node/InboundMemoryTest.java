package chat.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.node.TestDatabase.FreshDatabase;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 1,000 connections each sending max-size requests (password logins, the most expensive
 * request there is) as fast as their sockets take them, and never reading: the node's heap
 * stays bounded, because it stops reading a connection whose unhandled requests reach the
 * bound and cuts off one whose unread output does.
 */
@ExtendWith(TestDatabase.Extension.class)
@Timeout(300)
class InboundMemoryTest {

  private static final Logger LOG = LoggerFactory.getLogger(InboundMemoryTest.class);
  private static final int CONNECTIONS = 1_000;
  private static final long RUN_MS = 20_000;
  /** Far below what 1,000 × unbounded queues of 64 KiB requests would take. */
  private static final long HEAP_BOUND = 768L * 1024 * 1024;
  /**
   * What one connection may hold: CHAT_INBOUND_MAX_BYTES (default 2 × 64 KiB) of unhandled
   * requests plus the read that crossed it (64 KiB), as bytes and again as parsed requests,
   * and the frame being read (64 KiB): 448 KiB, and room for the objects around them.
   */
  private static final long PER_CONNECTION_BOUND = 640 * 1024;

  @Test
  void aThousandConnectionsSendingMaxSizeRequestsWithoutReadingKeepTheHeapBounded(
      FreshDatabase database) throws Exception {
    try (TestNodes nodes = new TestNodes(database.url(), Map.of())) {
      ChatNode node = nodes.start();
      String password = "p".repeat(65_536 - 64);
      byte[] request = ("{\"msgid\":1,\"id\":1,\"password\":\"" + password + "\"}\0")
          .getBytes(StandardCharsets.UTF_8);
      long baseline = heapAfterGc();
      List<SocketChannel> channels = new ArrayList<>();
      List<ByteBuffer> pending = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1",
            node.tcpPort()));
        channel.configureBlocking(false);
        channels.add(channel);
        pending.add(ByteBuffer.wrap(request));
      }
      long sent = 0;
      long peak = 0;
      long end = System.currentTimeMillis() + RUN_MS;
      long nextSample = System.currentTimeMillis() + 1000;
      while (System.currentTimeMillis() < end) {
        for (int i = 0; i < channels.size(); i++) {
          SocketChannel channel = channels.get(i);
          if (!channel.isOpen()) {
            continue;
          }
          ByteBuffer buffer = pending.get(i);
          try {
            sent += channel.write(buffer);
          } catch (java.io.IOException e) {
            channel.close();
            continue;
          }
          if (!buffer.hasRemaining()) {
            buffer.rewind();
          }
        }
        if (System.currentTimeMillis() >= nextSample) {
          peak = Math.max(peak, heapAfterGc());
          nextSample = System.currentTimeMillis() + 1000;
        }
      }
      long open = channels.stream().filter(SocketChannel::isOpen).count();
      LOG.info("{} connections, {} MiB sent in {} s, {} still open: heap after GC {} MiB at "
              + "start, {} MiB at the peak, {} KiB per connection", CONNECTIONS, sent >> 20,
          RUN_MS / 1000, open, baseline >> 20, peak >> 20, (peak - baseline) / CONNECTIONS >> 10);
      for (SocketChannel channel : channels) {
        channel.close();
      }
      assertTrue(sent > 64L * CONNECTIONS * 1024, "the clients did send: " + sent);
      assertTrue(peak < HEAP_BOUND, "heap after GC peaked at " + (peak >> 20) + " MiB");
      // Bounded by the settings, not only by a round figure.
      assertTrue(peak - baseline < (long) CONNECTIONS * PER_CONNECTION_BOUND, "heap grew by "
          + ((peak - baseline) >> 20) + " MiB for " + CONNECTIONS + " connections");
    }
  }

  private static long heapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
