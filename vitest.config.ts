import { defineConfig } from 'vitest/config';

/**
 * Four suites: `unit` (pure logic), `integration` (real SQLite files, real worker processes,
 * the real server), `reliability` (hostile input and faults: hostile sockets, full disks,
 * competing processes, hostile files) and `e2e` (Chromium driving the web mode). All but `unit`
 * use the built `dist/`, which `npm test` builds first.
 */
export default defineConfig({
	test: {
		reporters: ['default', './test/support/summary-reporter.ts'],
		projects: [
			{
				test: {
					name: 'unit',
					include: [
						'test/core/**/*.test.ts',
						'test/main/**/*.test.ts',
						'test/renderer/**/*.test.ts'
					]
				}
			},
			{
				test: {
					name: 'integration',
					include: ['test/integration/**/*.test.ts'],
					globalSetup: ['test/support/global-setup.ts'],
					testTimeout: 60_000,
					hookTimeout: 60_000
				}
			},
			{
				test: {
					name: 'reliability',
					include: ['test/reliability/**/*.test.ts'],
					globalSetup: ['test/support/global-setup.ts'],
					// Real trainers, full disks and competing processes: generous, and one file at a time.
					testTimeout: 180_000,
					hookTimeout: 60_000,
					fileParallelism: false
				}
			},
			{
				test: {
					name: 'e2e',
					include: ['test/e2e/**/*.test.ts'],
					globalSetup: ['test/support/global-setup.ts'],
					testTimeout: 60_000,
					hookTimeout: 60_000,
					// One browser at a time: the machine has two cores.
					fileParallelism: false
				}
			}
		]
	}
});
