import { DsnError, type DsnErrorCode, PeerError } from '../errors.js';
import type { NodeCore } from './core.js';

/** Why one bootstrap endpoint did not admit this node. */
export interface JoinFailure {
  endpoint: string;
  /** It answered (a refusal), rather than not at all. */
  answered: boolean;
  /** A refusal that trying again will not change (a key, the whitelist, the version). */
  final: boolean;
  code: DsnErrorCode;
  /** For the alert: "127.0.0.1:5000 refused the join: …". */
  text: string;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'no such host (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
};

/**
 * What a failed join means, in an operator's words. A bootstrap answers
 * every failure before it authenticates a message with the same 401 (no
 * padding oracle), so a 401 "not authorized" to a Hello means that nothing
 * this node sent decrypted there: the network keys differ. Refusals after
 * the Hello verified (the whitelist, a node ID bound to another key, the
 * version) say so in the answer.
 */
export function explainJoinFailure(ep: string, err: unknown, core: NodeCore): JoinFailure {
  const message = err instanceof Error ? err.message : String(err);
  const fail = (answered: boolean, final: boolean, code: DsnErrorCode, text: string) => ({
    endpoint: ep,
    answered,
    final,
    code,
    text,
  });
  if (err instanceof PeerError && err.code === 'DSN_ERR_TIMEOUT') {
    return fail(false, false, 'DSN_ERR_TIMEOUT', `${ep} did not answer in time`);
  }
  if (err instanceof DsnError && err.code === 'DSN_ERR_KEY_MISMATCH') {
    // Its answer: the node there signs with another key than the one stored for its ID.
    return fail(true, true, err.code, `${ep}: ${message}`);
  }
  const status = err instanceof PeerError ? err.status : undefined;
  const reason = err instanceof PeerError ? err.reason : '';
  if (status === 401 && /known here with another key/.test(reason)) {
    const own = core.creds.ownKeyFile;
    const fix = own
      ? `if this node's credentials were recreated, put its old key back in ${own}, or delete ${core.id}.pub in that node's credential folder`
      : `this node keeps no key (credentialDir is null) and has a new one each start; delete ${core.id}.pub in that node's credential folder, or give this node a credential folder`;
    return fail(
      true,
      true,
      'DSN_ERR_KEY_MISMATCH',
      `${ep} refused the join: node ID ${core.id} is known there with another key (trust on first use); ${fix}`,
    );
  }
  if (status === 401 && /whitelist/.test(reason)) {
    return fail(
      true,
      true,
      'DSN_ERR_NOT_WHITELISTED',
      `${ep} refused the join: ${core.id} is not on its whitelist`,
    );
  }
  if (status === 401 && core.envelope.encrypted) {
    return fail(
      true,
      true,
      'DSN_ERR_WRONG_KEY',
      `${ep} refused the join: 401 ${reason || 'not authorized'} — nothing this node sends decrypts there: the network keys differ`,
    );
  }
  if (status === 505) {
    return fail(
      true,
      true,
      'DSN_ERR_VERSION',
      `${ep} refused the join: ${reason || 'another protocol version'}`,
    );
  }
  if (status !== undefined && status !== 502 && / answered \d+: /.test(message)) {
    return fail(
      true,
      false,
      'DSN_ERR_PEER',
      `${ep} refused the join: ${status} ${reason}`.trimEnd(),
    );
  }
  if (status === undefined && / unreachable\b/.test(message)) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    const why = (code && SOCKET_ERRORS[code]) ?? message.replace(/^.*? unreachable:? ?/s, '');
    return fail(false, false, 'DSN_ERR_PEER', `${ep} unreachable${why ? `: ${why}` : ''}`);
  }
  return fail(true, false, 'DSN_ERR_PEER', message.startsWith(ep) ? message : `${ep}: ${message}`);
}

/** "no bootstrap node admitted this node (…; …)", or "… answered (…)" when none did at all. */
export function joinSummary(tried: JoinFailure[]): string {
  const head = tried.some((t) => t.answered)
    ? 'no bootstrap node admitted this node'
    : 'no bootstrap node answered';
  return `${head} (${tried.map((t) => t.text).join('; ')})`;
}

/** `start` with requireJoin: no bootstrap admitted the node. Its code is the first final refusal's, else DSN_ERR_JOIN. */
export class JoinError extends DsnError {
  constructor(readonly failures: JoinFailure[]) {
    const final = failures.find((f) => f.final);
    super(final?.code ?? 'DSN_ERR_JOIN', joinSummary(failures));
    this.name = 'JoinError';
  }
}
