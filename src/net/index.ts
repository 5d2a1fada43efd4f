export { createDnsClient, dnsConfigSchema, isNoRecord, type DnsClient, type DnsConfig, type DnsLookup } from './dns-resolver.js';
export { cidrListSchema, isAddressOrCidr, LOOPBACK } from './cidr-list.js';
export { createRedis, redisConfigSchema, type Redis, type RedisConfig } from './redis-client.js';
export { NetworkList, normalizeAddress } from './network-list.js';
