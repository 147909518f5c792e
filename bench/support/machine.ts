import os from 'node:os';

/** The machine a run happened on; results from different machines are not comparable. */
export interface MachineInfo {
  os: string;
  arch: string;
  cpuModel: string;
  logicalCores: number;
  /** What Node may actually use (cgroup/affinity limits), often lower than logicalCores in containers. */
  availableParallelism: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
}

export function describeMachine(servers: { postgres: string; redis: string }): MachineInfo {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: servers.postgres,
    redis: servers.redis,
  };
}
