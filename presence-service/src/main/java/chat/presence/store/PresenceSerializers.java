package chat.presence.store;

import chat.presence.store.Outcomes.Aligned;
import chat.presence.store.Outcomes.Connected;
import chat.presence.store.Outcomes.Removed;
import chat.presence.store.Outcomes.Restored;
import chat.protocol.bus.LoginPolicy;
import com.hazelcast.config.SerializationConfig;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the online map's values, its entry processors and their results travel between
 * Hazelcast members (to the key's owner, to its backup) and between a partition thread and its
 * caller: field by field, instead of Java serialization (whose stream header, class
 * descriptors and reflection made it the largest single cost of a token login).
 *
 * <p>Every member of a cluster must register them ({@link #register}): a value written with
 * one of these type ids cannot be read by a member without them. The classes stay
 * {@link java.io.Serializable}, so a member that has them reads what older members wrote.
 */
public final class PresenceSerializers {

  /** The first of this module's Hazelcast type ids (custom ids must be positive). */
  static final int FIRST_TYPE_ID = 1_100;

  private PresenceSerializers() {
  }

  /** Adds the serializers of presence's map values and results to a member's config. */
  public static void register(SerializationConfig config) {
    List.of(new UserSessionsSerializer(), new ConnectedSerializer(), new RemovedSerializer(),
            new RestoredSerializer(), new AlignedSerializer(), new ConnectSerializer(),
            new DisconnectSerializer(), new DropNodesSerializer(), new DropNodeSerializer(),
            new RemoveStaleSerializer(), new RestoreSerializer(), new AlignSerializer(), new AlignRowsSerializer())
        .forEach(serializer -> config.addSerializerConfig(new SerializerConfig()
            .setTypeClass(serializer.type()).setImplementation(serializer)));
  }

  /** One record type's serializer. */
  private abstract static class RecordSerializer<T> implements StreamSerializer<T> {

    private final Class<T> type;
    private final int typeId;

    RecordSerializer(Class<T> type, int offset) {
      this.type = type;
      this.typeId = FIRST_TYPE_ID + offset;
    }

    Class<T> type() {
      return type;
    }

    @Override
    public int getTypeId() {
      return typeId;
    }
  }

  static final class UserSessionsSerializer extends RecordSerializer<UserSessions> {

    UserSessionsSerializer() {
      super(UserSessions.class, 0);
    }

    @Override
    public void write(ObjectDataOutput out, UserSessions value) throws IOException {
      writeSessions(out, value.sessions());
      out.writeLong(value.version());
      writeStrings(out, value.ended());
    }

    @Override
    public UserSessions read(ObjectDataInput in) throws IOException {
      return new UserSessions(readSessions(in), in.readLong(), readStrings(in));
    }
  }

  static final class ConnectedSerializer extends RecordSerializer<Connected> {

    ConnectedSerializer() {
      super(Connected.class, 1);
    }

    @Override
    public void write(ObjectDataOutput out, Connected value) throws IOException {
      out.writeBoolean(value.rejected());
      out.writeBoolean(value.wentOnline());
      out.writeLong(value.version());
      writeSessions(out, value.replaced());
      out.writeBoolean(value.aborted());
      out.writeBoolean(value.needsSeed());
    }

    @Override
    public Connected read(ObjectDataInput in) throws IOException {
      return new Connected(in.readBoolean(), in.readBoolean(), in.readLong(), readSessions(in),
          in.readBoolean(), in.readBoolean());
    }
  }

  static final class RemovedSerializer extends RecordSerializer<Removed> {

    RemovedSerializer() {
      super(Removed.class, 2);
    }

    @Override
    public void write(ObjectDataOutput out, Removed value) throws IOException {
      out.writeInt(value.removed());
      out.writeBoolean(value.wentOffline());
      out.writeLong(value.version());
      out.writeString(value.node());
    }

    @Override
    public Removed read(ObjectDataInput in) throws IOException {
      return new Removed(in.readInt(), in.readBoolean(), in.readLong(), in.readString());
    }
  }

  static final class RestoredSerializer extends RecordSerializer<Restored> {

    RestoredSerializer() {
      super(Restored.class, 3);
    }

    @Override
    public void write(ObjectDataOutput out, Restored value) throws IOException {
      out.writeInt(value.added());
      out.writeBoolean(value.wentOnline());
      out.writeLong(value.version());
      writeStrings(out, value.toClose());
      out.writeBoolean(value.needsSeed());
    }

    @Override
    public Restored read(ObjectDataInput in) throws IOException {
      return new Restored(in.readInt(), in.readBoolean(), in.readLong(), readStrings(in),
          in.readBoolean());
    }
  }

  static final class AlignedSerializer extends RecordSerializer<Aligned> {

    AlignedSerializer() {
      super(Aligned.class, 4);
    }

    @Override
    public void write(ObjectDataOutput out, Aligned value) throws IOException {
      out.writeBoolean(value.write());
      out.writeBoolean(value.online());
      out.writeLong(value.version());
    }

    @Override
    public Aligned read(ObjectDataInput in) throws IOException {
      return new Aligned(in.readBoolean(), in.readBoolean(), in.readLong());
    }
  }

  static final class ConnectSerializer extends RecordSerializer<SessionProcessors.Connect> {

    ConnectSerializer() {
      super(SessionProcessors.Connect.class, 5);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.Connect value) throws IOException {
      writeSessions(out, List.of(value.session()));
      out.writeString(value.policy().name());
      out.writeLong(value.floor());
    }

    @Override
    public SessionProcessors.Connect read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.Connect(readSessions(in).get(0),
          LoginPolicy.valueOf(in.readString()), in.readLong());
    }
  }

  static final class DisconnectSerializer extends RecordSerializer<SessionProcessors.Disconnect> {

    DisconnectSerializer() {
      super(SessionProcessors.Disconnect.class, 6);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.Disconnect value)
        throws IOException {
      out.writeString(value.sessionId());
    }

    @Override
    public SessionProcessors.Disconnect read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.Disconnect(in.readString());
    }
  }

  static final class DropNodesSerializer extends RecordSerializer<SessionProcessors.DropNodes> {

    DropNodesSerializer() {
      super(SessionProcessors.DropNodes.class, 7);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.DropNodes value)
        throws IOException {
      writeStrings(out, List.copyOf(value.liveNodes()));
    }

    @Override
    public SessionProcessors.DropNodes read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.DropNodes(Set.copyOf(readStrings(in)));
    }
  }

  static final class DropNodeSerializer extends RecordSerializer<SessionProcessors.DropNode> {

    DropNodeSerializer() {
      super(SessionProcessors.DropNode.class, 8);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.DropNode value) throws IOException {
      out.writeString(value.nodeId());
    }

    @Override
    public SessionProcessors.DropNode read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.DropNode(in.readString());
    }
  }

  static final class RemoveStaleSerializer
      extends RecordSerializer<SessionProcessors.RemoveStale> {

    RemoveStaleSerializer() {
      super(SessionProcessors.RemoveStale.class, 9);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.RemoveStale value)
        throws IOException {
      out.writeString(value.nodeId());
      out.writeLong(value.upTo());
      writeStrings(out, List.copyOf(value.held()));
    }

    @Override
    public SessionProcessors.RemoveStale read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.RemoveStale(in.readString(), in.readLong(),
          Set.copyOf(readStrings(in)));
    }
  }

  static final class RestoreSerializer extends RecordSerializer<SessionProcessors.Restore> {

    RestoreSerializer() {
      super(SessionProcessors.Restore.class, 10);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.Restore value) throws IOException {
      writeSessions(out, value.sessions());
      out.writeLong(value.floor());
    }

    @Override
    public SessionProcessors.Restore read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.Restore(readSessions(in), in.readLong());
    }
  }

  static final class AlignSerializer extends RecordSerializer<SessionProcessors.Align> {

    AlignSerializer() {
      super(SessionProcessors.Align.class, 11);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.Align value) throws IOException {
      out.writeBoolean(value.rowOnline());
      out.writeLong(value.rowVersion());
    }

    @Override
    public SessionProcessors.Align read(ObjectDataInput in) throws IOException {
      return new SessionProcessors.Align(in.readBoolean(), in.readLong());
    }
  }

  static final class AlignRowsSerializer extends RecordSerializer<SessionProcessors.AlignRows> {

    AlignRowsSerializer() {
      super(SessionProcessors.AlignRows.class, 12);
    }

    @Override
    public void write(ObjectDataOutput out, SessionProcessors.AlignRows value)
        throws IOException {
      out.writeInt(value.rows().size());
      for (Map.Entry<Integer, PresenceStore.Row> row : value.rows().entrySet()) {
        out.writeInt(row.getKey());
        out.writeBoolean(row.getValue().online());
        out.writeLong(row.getValue().version());
      }
    }

    @Override
    public SessionProcessors.AlignRows read(ObjectDataInput in) throws IOException {
      int count = in.readInt();
      Map<Integer, PresenceStore.Row> rows = new HashMap<>(count * 2);
      for (int i = 0; i < count; i++) {
        rows.put(in.readInt(), new PresenceStore.Row(in.readBoolean(), in.readLong()));
      }
      return new SessionProcessors.AlignRows(rows);
    }
  }

  private static void writeSessions(ObjectDataOutput out, List<SessionRef> sessions)
      throws IOException {
    out.writeInt(sessions.size());
    for (SessionRef s : sessions) {
      out.writeString(s.sessionId());
      out.writeString(s.nodeId());
      out.writeString(s.transport());
      out.writeLong(s.since());
      out.writeLong(s.seq());
    }
  }

  private static List<SessionRef> readSessions(ObjectDataInput in) throws IOException {
    int count = in.readInt();
    List<SessionRef> sessions = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      sessions.add(new SessionRef(in.readString(), in.readString(), in.readString(),
          in.readLong(), in.readLong()));
    }
    return sessions;
  }

  private static void writeStrings(ObjectDataOutput out, List<String> strings)
      throws IOException {
    out.writeInt(strings.size());
    for (String s : strings) {
      out.writeString(s);
    }
  }

  private static List<String> readStrings(ObjectDataInput in) throws IOException {
    int count = in.readInt();
    List<String> strings = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      strings.add(in.readString());
    }
    return strings;
  }
}
