export { SocketmapServer, type LookupResult, type SocketmapLookup, type SocketmapServerOptions } from './socketmap-server.js';
export { hermodMaps } from './hermod-maps.js';
export { encodeNetstring, NetstringDecoder } from './netstring.js';
export { LookupProtocolError } from './lookup-error.js';
export { startLookup, type RunningLookup } from './start-lookup.js';
