/**
 * The bus contract of the user service ({@code chat.user.*}): one request record per address
 * (or per family of addresses with the same body) and its reply, mapped to and from the JSON
 * bodies by {@link chat.protocol.bus.BusJson}, except {@link chat.protocol.bus.user.Append},
 * the hot path, which maps itself. Each record checks its fields in its compact constructor
 * with the rules of {@link chat.protocol.bus.BusFields}, so a body that breaks them is refused
 * with INVALID_INPUT by the reader, and a caller that builds a bad request fails before
 * sending it, with the same {@link chat.protocol.bus.ServiceFailure}.
 */
package chat.protocol.bus.user;
