package chat.gateway.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;

/** Closing a client's Netty channel with a reset. */
public final class ChannelReset {

  private ChannelReset() {
  }

  /**
   * SO_LINGER 0, then close the transport itself, under the pipeline (whose handlers would
   * first wait for queued writes to flush): the kernel drops what is queued and sends a reset.
   */
  public static void reset(Channel channel) {
    if (!channel.eventLoop().inEventLoop()) {
      channel.eventLoop().execute(() -> reset(channel));
      return;
    }
    if (channel.isActive()) {
      try {
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        // the socket is already going away: the close is all that is left
      }
    }
    channel.unsafe().close(channel.unsafe().voidPromise());
  }
}
