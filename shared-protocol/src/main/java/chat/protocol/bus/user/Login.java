package chat.protocol.bus.user;

import static chat.protocol.bus.BusFields.checkOptionalId;
import static chat.protocol.bus.BusFields.required;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Request on {@code chat.user.account.login}: checks credentials. The account is {@code id}
 * when present, else {@code name} (trimmed); the secret is {@code password} when present,
 * else {@code token}. The record keeps only the ones used ({@code null}: absent on the wire).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Login(Integer id, String name, String password, String token) {

  public Login {
    name = checkOptionalId("id", id) == null ? required("name", name).strip() : null;
    token = password == null ? required("token", token) : null;
  }

  /** Reply: the account and a fresh resume token. */
  public record Reply(int id, String name, String token) {
  }
}
