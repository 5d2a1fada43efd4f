export * from './replies.js';
export { receivedHeader, type ReceivedFrom } from './received-header.js';
export * from './address-syntax.js';
