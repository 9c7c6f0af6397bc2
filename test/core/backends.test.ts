import { describe, expect, it } from 'vitest';
import { selectBackend, type BackendId, type BackendProbe } from '../../src/core/compute/backends';

const probe = (id: BackendId, available: boolean): BackendProbe => ({
	id,
	available,
	detail: available ? 'ready' : `${id} missing`,
	version: available ? '4.22.0' : null,
	probeMs: available ? 10 : null
});

const offline = [
	probe('tfjs-node-gpu', false),
	probe('tfjs-node', false),
	probe('wasm', true),
	probe('cpu', true)
];

describe('selectBackend', () => {
	it('picks the best available backend automatically and names the unavailable better ones', () => {
		const selection = selectBackend('auto', offline);
		expect(selection.active).toBe('wasm');
		expect(selection.reason).toContain('tfjs-node-gpu, tfjs-node unavailable');
	});

	it('prefers the GPU build when it loads', () => {
		const withGpu = [probe('tfjs-node-gpu', true), ...offline.slice(1)];
		expect(selectBackend('auto', withGpu).active).toBe('tfjs-node-gpu');
	});

	it('honours an available preference even when a better backend exists', () => {
		expect(selectBackend('cpu', offline)).toMatchObject({ active: 'cpu', preference: 'cpu' });
	});

	it('falls back from an unavailable preference and says why', () => {
		const selection = selectBackend('tfjs-node-gpu', offline);
		expect(selection.active).toBe('wasm');
		expect(selection.reason).toContain('tfjs-node-gpu missing');
		expect(selection.reason).toContain('using wasm instead');
	});

	it('reports no backend when nothing loads', () => {
		const none = offline.map((entry) => ({ ...entry, available: false }));
		expect(selectBackend('auto', none).active).toBeNull();
		expect(selectBackend('wasm', none).active).toBeNull();
		expect(selectBackend('wasm', none).reason).toContain('no other backend works');
	});
});
