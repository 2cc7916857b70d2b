package chat.node;

public final class ChatNodeMain {
  public static void main(String[] args) {
  }
}
