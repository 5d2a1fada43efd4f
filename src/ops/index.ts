export { Metrics, type ListenerKind, type RecipientResult, type TransactionOutcome, type GaugeSource } from './metrics.js';
export { instrumentAuth, instrumentProcessor, instrumentSearch, instrumentStore, observeOutbound, timed } from './instrument.js';
export { OpsServer, type OpsServerOptions } from './ops-server.js';
export { coreChecks, runChecks, type CheckResult, type ReadinessCheck, type ReadinessReport } from './readiness.js';
export { startOps, type RunningOps } from './start-ops.js';
