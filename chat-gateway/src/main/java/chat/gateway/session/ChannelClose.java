package chat.gateway.session;

import io.netty.channel.Channel;

/** Closing a client's Netty channel at once. */
public final class ChannelClose {

  private ChannelClose() {
  }

  /**
   * Closes the transport itself, under the pipeline (whose handlers would first wait for the
   * writes queued in the process to flush to a socket nobody reads): those writes fail at
   * once, the process holds nothing more for this client, and the kernel still hands the peer
   * what it already took, then the FIN. No reset, so a client that reads late loses none of
   * what it was given.
   */
  public static void closeNow(Channel channel) {
    if (!channel.eventLoop().inEventLoop()) {
      channel.eventLoop().execute(() -> closeNow(channel));
      return;
    }
    channel.unsafe().close(channel.unsafe().voidPromise());
  }
}
