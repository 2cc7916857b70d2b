package chat.gateway.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;

/** What a Netty channel holds in the process for its peer. */
public final class ConnectionBytes {

  private ConnectionBytes() {
  }

  /**
   * Bytes written to the channel that the socket has not taken (Netty's outbound buffer, not
   * the kernel's socket buffer); 0 once the channel is closed.
   */
  public static long pending(Channel channel) {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  /** SO_LINGER 0, then close: the kernel drops what is queued and sends a reset. */
  public static void reset(Channel channel) {
    if (channel.isActive()) {
      try {
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // the socket is already going away: the close is all that is left
      }
    }
    channel.close();
  }
}
