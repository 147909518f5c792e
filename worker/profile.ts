// Imported first by worker/main.ts: the worker container runs under the worker connection profile
// (larger pool, Redis that waits through faults) unless told otherwise.
process.env.AGENDA_PROFILE ??= 'worker';
