export { DSNodeServer, generateKey, type DSNodeCallbacks, type Dashboard } from './server.js';
export {
  DSNodeConfig,
  DEFAULT_TIMING,
  type DSNodeConfigInit,
  type DashboardOptions,
  type Endpoint,
  type Timing,
} from './config.js';
export { DSNode, type NodeView } from './node/node.js';
export type { DSNodeEvents } from './node/events.js';
export { PROTOCOL_VERSION } from './node/core.js';
export { DsnError, ConfigError, DecodeError, PeerError, type DsnErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './wire/limits.js';
export { type Clock, FakeClock, systemClock } from './clock.js';
export type { Transport, RequestHandler, IncomingRequest, Response } from './transport/types.js';
export { HttpTransport } from './transport/http.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory.js';
export { cryptoBackend } from './crypto/signing.js';
