/* rtm_errors — the codes of RTM `error` messages, one list for the frame parser (api)
 * and the core's refusals (conf), so a client sees one vocabulary. */
#ifndef PARLEY_RTM_ERRORS_H
#define PARLEY_RTM_ERRORS_H

#define RTM_E_TOO_LARGE "MESSAGE_TOO_LARGE"
#define RTM_E_BAD_JSON "INVALID_JSON"
#define RTM_E_BAD_MESSAGE "INVALID_MESSAGE"
#define RTM_E_UNKNOWN_TYPE "UNKNOWN_TYPE"
#define RTM_E_ID_MISMATCH "ID_MISMATCH"
#define RTM_E_STATE "INVALID_STATE"
#define RTM_E_FORBIDDEN "NOT_ALLOWED"
#define RTM_E_BAD_SDP "INVALID_SDP"
#define RTM_E_BAD_URL "INVALID_URL"
#define RTM_E_INTERNAL "INTERNAL_ERROR" /* ours, not the client's: e.g. the journal */
#define RTM_E_SHUTDOWN "SERVICE_SHUTDOWN"
#define RTM_E_TOO_MANY "TOO_MANY_RESERVATIONS"
/* Cluster mode: the session named lives on another node; data.ws_endpoint says where. */
#define RTM_E_OTHER_NODE "SESSION_ON_OTHER_NODE"

#endif
