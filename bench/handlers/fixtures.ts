/** What both connection-reuse handlers read, so they do exactly the same work. */
export const BENCH_CLINIC_ID = '00000000-0000-4000-8000-00000000be7c';
export const BENCH_REDIS_KEY = 'agenda:bench:connection-reuse';
/** `application_name` of the anti-pattern's connections, so the bench can wait for them to end. */
export const PER_INVOCATION_APP_NAME = 'agenda-bench-per-invocation';
