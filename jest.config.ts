/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Tests run against the real PostgreSQL and Redis, so they run in band (see README, "Tests").
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Needs the scratch Redis Cluster of its own pass (jest.cluster.config.ts).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/redis-cluster.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // @middy/core 6 ships ES modules only; compile it to CommonJS like our own code.
    '^.+/node_modules/@middy/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/env.ts'],
  testTimeout: 60_000,
  forceExit: false,
  detectOpenHandles: false,
};

export default config;
