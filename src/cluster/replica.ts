import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process's replica id: stable for the life of the process, settable once before use (from
 * `cluster.replica_id` or MCP_GATEWAY_REPLICA_ID). State that names the replica which must answer a
 * retry (a bridged `input_required`, a legacy session) carries it, and shared status is keyed by it.
 * Default `<hostname>-<pid>`: in Kubernetes the hostname is the pod's name, so the id says which pod.
 */
let current: string | undefined;

export function replicaId(): string {
  current ??= defaultReplicaId();
  return current;
}

/** Sets the id; call before anything reads it. Returns the id in force. */
export function setReplicaId(id: string | undefined): string {
  if (id !== undefined && id !== '') current = id;
  return replicaId();
}

function defaultReplicaId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 60) || 'gateway';
  // The random tail keeps two processes apart when a container restarts with the same pid.
  return `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
}
