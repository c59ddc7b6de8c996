export { type Clock, FakeClock, systemClock } from './clock.js';
export {
  type DashboardOptions,
  DEFAULT_TIMING,
  DSNodeConfig,
  type DSNodeConfigInit,
  type Endpoint,
  type Timing,
} from './config.js';
export { cryptoBackend } from './crypto/signing.js';
export { ConfigError, DecodeError, DsnError, type DsnErrorCode, PeerError } from './errors.js';
export { PROTOCOL_VERSION } from './node/core.js';
export type { DSNodeEvents } from './node/events.js';
export { JoinError, type JoinFailure } from './node/join.js';
export { DSNode, type NodeView } from './node/node.js';
export { type Dashboard, type DSNodeCallbacks, DSNodeServer, generateKey } from './server.js';
export { HttpTransport } from './transport/http.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory.js';
export type { IncomingRequest, RequestHandler, Response, Transport } from './transport/types.js';
export { DEFAULT_LIMITS, type Limits } from './wire/limits.js';
