package chat.gateway.tcp;

import chat.gateway.GatewayConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TCP keepalive timing per socket (idle, interval, probe count), so a peer that vanished
 * without a FIN is found even when it never pings. Works with the NIO transport (through the
 * JDK's extended socket options) and with Netty's native epoll transport.
 */
final class KeepAlive {

  private static final Logger LOG = LoggerFactory.getLogger(KeepAlive.class);

  private KeepAlive() {
  }

  static void apply(Channel channel, GatewayConfig config) {
    try {
      channel.config().setOption(ChannelOption.SO_KEEPALIVE, true);
      if (isEpoll(channel)) {
        // The epoll options, looked up by name: they exist once the epoll transport is loaded.
        channel.config().setOption(ChannelOption.valueOf("TCP_KEEPIDLE"),
            config.keepAliveIdleSeconds());
        channel.config().setOption(ChannelOption.valueOf("TCP_KEEPINTVL"),
            config.keepAliveIntervalSeconds());
        channel.config().setOption(ChannelOption.valueOf("TCP_KEEPCNT"),
            config.keepAliveCount());
      } else {
        channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE),
            config.keepAliveIdleSeconds());
        channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL),
            config.keepAliveIntervalSeconds());
        channel.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT),
            config.keepAliveCount());
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("keepalive timing not set on {}: {}", channel, e.toString());
    }
  }

  private static boolean isEpoll(Channel channel) {
    return channel.getClass().getName().startsWith("io.netty.channel.epoll.");
  }
}
