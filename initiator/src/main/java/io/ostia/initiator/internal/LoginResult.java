package io.ostia.initiator.internal;

import io.ostia.api.text.NegotiatedParameters;
import java.util.Map;

/**
 * A connection that finished login and is ready for full-feature phase.
 *
 * @param connection  bound, logged in, not yet started
 * @param parameters  what the login settled on
 * @param keys        the negotiated keys and values as the target answered them, for display
 * @param tsih        the target-assigned session handle
 * @param expStatSN   the StatSN the initiator expects next
 * @param cmdSN       the CmdSN of the session's first command: the Login Request's (RFC 7143
 *                    11.12.8), whatever the response's ExpCmdSN says (tgt's iSER login answers
 *                    one past it, with MaxCmdSN at the login's CmdSN)
 * @param maxCmdSN    the response's MaxCmdSN
 */
record LoginResult(SessionConnection connection, NegotiatedParameters parameters, Map<String, String> keys,
                   int tsih, int expStatSN, int cmdSN, int maxCmdSN) {
}
