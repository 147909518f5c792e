import { existsSync } from 'node:fs';

// Imported first by worker/main.ts, before anything reads the environment: a local .env (never
// overriding real environment variables), then the worker connection profile, always: BullMQ
// Workers need its Redis options, whatever a shared .env says.
if (existsSync('.env')) process.loadEnvFile('.env');
process.env.AGENDA_PROFILE = 'worker';
