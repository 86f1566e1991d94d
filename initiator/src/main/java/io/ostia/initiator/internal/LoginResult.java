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
 * @param expCmdSN    the CmdSN the target expects next: the first command's
 */
record LoginResult(SessionConnection connection, NegotiatedParameters parameters, Map<String, String> keys,
                   int tsih, int expStatSN, int expCmdSN, int maxCmdSN) {
}
