/**
 * The cluster's public face: this process's replica id, the link to the cluster's Redis (shared
 * registrations, replica status, pub/sub) and call limits. Knows Redis and the config, nothing of
 * the front or the backends: the front wires them (front/cluster-sync.ts).
 */

export { InFlightLimiter, type InFlightVerdict, LEASE_MS } from './in-flight.js';
export { type ClusterEvent, ClusterLink, type ReplicaStatus, type StoredRegistration } from './link.js';
export { CallLimiter, type CallSubject, type LimitVerdict } from './rate-limits.js';
export { replicaId, setReplicaId } from './replica.js';
export {
  MAX_RUNS,
  MemoryRunStore,
  RedisRunStore,
  RUN_TTL_MS,
  type RunStore,
  type StoredRun,
} from './run-store.js';
