#!/usr/bin/env node
// Runs `prisma generate` offline. Generate never uses the native schema engine, but the CLI insists
// on finding one and cannot download it here; any existing executable satisfies the check
// (see ../shared/design.md, "Toolchain facts").
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const cli = path.join(__dirname, '..', 'node_modules', 'prisma', 'build', 'index.js');
const res = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(res.status ?? 1);
