export { Listener, type ListenerOptions } from './listener.js';
export { SessionHandler } from './session-handler.js';
export type { ListenerDeps, PeerInfo } from './session-state.js';
export { readProxyHeader, looksLikeProxyHeader, ProxyHeaderError, type ProxyInfo } from './proxy-header.js';
export { startSubmission, type RunningSubmission } from './start-submission.js';
