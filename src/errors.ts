/**
 * One error family for the whole library. Every error has a stable `code`;
 * the server edge maps codes to HTTP statuses with `httpStatusOf`.
 */
export type DsnErrorCode =
  | 'DSN_ERR_CONFIG' // invalid configuration
  | 'DSN_ERR_ARGUMENT' // a bad argument to an API call
  | 'DSN_ERR_TRUNCATED' // a length or field runs past the end of the input
  | 'DSN_ERR_TRAILING' // bytes left over where a message should end
  | 'DSN_ERR_MALFORMED' // structurally invalid packet or JSON
  | 'DSN_ERR_LIMIT' // a field, count or body exceeds a configured bound
  | 'DSN_ERR_DECRYPT' // the envelope does not decrypt with the network key
  | 'DSN_ERR_BAD_TYPE' // empty body or type byte does not match the path
  | 'DSN_ERR_UNAUTHORIZED' // unknown sender, bad signature, changed key, not whitelisted
  | 'DSN_ERR_WRONG_KEY' // a join refused: nothing decrypts there (the network keys differ)
  | 'DSN_ERR_KEY_MISMATCH' // a node ID already bound to another key (trust on first use)
  | 'DSN_ERR_NOT_WHITELISTED' // a node ID not on the whitelist
  | 'DSN_ERR_JOIN' // requireJoin: no bootstrap node admitted this node in time
  | 'DSN_ERR_VERSION' // protocol version mismatch
  | 'DSN_ERR_OWN_ORIGIN' // an update that claims to come from the receiver itself
  | 'DSN_ERR_NOT_FOUND' // unknown path
  | 'DSN_ERR_TOO_LARGE' // body over the size limit
  | 'DSN_ERR_UNKNOWN_NODE' // no such peer
  | 'DSN_ERR_PEER' // a peer answered with an error status or a bad response
  | 'DSN_ERR_REFUSED' // the receiver of a DATA refused it (its receive callback threw)
  | 'DSN_ERR_TIMEOUT' // a peer did not answer in time
  | 'DSN_ERR_STOPPED' // the node is stopped
  | 'DSN_ERR_INTERNAL';

export class DsnError extends Error {
  readonly code: DsnErrorCode;
  constructor(code: DsnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DsnError';
    this.code = code;
  }
}

/** A packet or body that cannot be decoded. */
export class DecodeError extends DsnError {
  constructor(code: DsnErrorCode, message: string) {
    super(code, message);
    this.name = 'DecodeError';
  }
}

/** A configuration that is refused; the message names the field. */
export class ConfigError extends DsnError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('DSN_ERR_CONFIG', `${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** A request to a peer that failed (error status, bad response, timeout). */
export class PeerError extends DsnError {
  readonly status: number | undefined;
  /** The peer's own words with an error status ('' when it gave none). */
  readonly reason: string;
  constructor(
    code: DsnErrorCode,
    message: string,
    status?: number,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(code, message, options);
    this.name = 'PeerError';
    this.status = status;
    this.reason = options?.reason ?? '';
  }
}

/** HTTP status for each code, as protocol 0.9.0 uses them (PROTOCOL.md §1). */
const STATUS: Record<DsnErrorCode, number> = {
  DSN_ERR_CONFIG: 500,
  DSN_ERR_ARGUMENT: 400,
  DSN_ERR_TRUNCATED: 406,
  DSN_ERR_TRAILING: 406,
  DSN_ERR_MALFORMED: 406,
  DSN_ERR_LIMIT: 406,
  DSN_ERR_DECRYPT: 401,
  DSN_ERR_BAD_TYPE: 400,
  DSN_ERR_UNAUTHORIZED: 401,
  DSN_ERR_WRONG_KEY: 401,
  DSN_ERR_KEY_MISMATCH: 401,
  DSN_ERR_NOT_WHITELISTED: 401,
  DSN_ERR_JOIN: 503,
  DSN_ERR_VERSION: 505,
  DSN_ERR_OWN_ORIGIN: 406,
  DSN_ERR_NOT_FOUND: 404,
  DSN_ERR_TOO_LARGE: 413,
  DSN_ERR_UNKNOWN_NODE: 401,
  DSN_ERR_PEER: 500,
  DSN_ERR_REFUSED: 503,
  DSN_ERR_TIMEOUT: 500,
  DSN_ERR_STOPPED: 503,
  DSN_ERR_INTERNAL: 500,
};

export function httpStatusOf(err: unknown): number {
  return err instanceof DsnError ? STATUS[err.code] : 500;
}

export function isDecodeFailure(err: unknown): boolean {
  return err instanceof DsnError && STATUS[err.code] === 406 && err.code !== 'DSN_ERR_OWN_ORIGIN';
}
