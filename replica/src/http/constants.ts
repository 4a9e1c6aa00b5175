// Limits of the HTTP interface. Values follow the IC's application subnets where the spec names
// them (https-interface.md); the rest are this replica's choices, stated as such.

/** Largest accepted request body: the IC's ingress message limit (2 MiB). */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** ingress_expiry may be at most this far ahead (IC: MAX_INGRESS_TTL 5 min + 1 min clock drift). */
export const MAX_INGRESS_TTL_NS = 5n * 60n * 1_000_000_000n;
export const PERMITTED_DRIFT_NS = 60n * 1_000_000_000n;
/** read_state limits (https-interface.md#http-read-state). */
export const MAX_READ_STATE_PATHS = 1000;
export const MAX_PATH_LABELS = 127;
/** nonce is at most 32 bytes (#authentication). */
export const MAX_NONCE_BYTES = 32;
/** How long a v3/v4 call waits for its outcome before answering 202 (implementation-specific). */
export const SYNC_CALL_TIMEOUT_MS = 10_000;
/** A replied/rejected status stays readable at least this long after completion (#http-call-overview). */
export const REQUEST_STATUS_RETENTION_NS = 5n * 60n * 1_000_000_000n;
/** read_state certificates are re-signed when the latest is older than this. */
export const READ_STATE_MAX_AGE_NS = 1_000_000_000n;
/** Queries refresh the data certificate when it is older than this. */
export const DATA_CERTIFICATE_MAX_AGE_NS = 60n * 1_000_000_000n;
/**
 * CBOR data items per request body. The IC bounds a request by bytes (2 MiB), but 2 MiB of one-byte
 * items is two million values, and hashing each for the request id would hold the event loop for
 * seconds. This replica refuses such bodies instead (a deliberate difference): the largest request
 * an agent sends, a read_state of 1000 paths, stays far below the limit; only unknown content
 * fields or absurdly long paths could reach it.
 */
export const MAX_REQUEST_CBOR_ITEMS = 20_000;
