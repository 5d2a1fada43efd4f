export { Listener, type ListenerOptions } from './listener.js';
export { SessionHandler, type SessionHandlerDeps } from './session-handler.js';
export { REPLIES, replyForVerdict, replyForOutcome, type Reply } from './replies.js';
export { readProxyHeader, looksLikeProxyHeader, ProxyHeaderError, type ProxyInfo } from './proxy-header.js';
export { NetworkList } from './network-list.js';
export type { PeerInfo } from './session-state.js';
