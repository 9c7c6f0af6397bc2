import { describe, expect, it } from 'vitest';
import { isProjectLink, projectLinks } from '../../src/main/electron/external-links';

describe('links the desktop app opens in the system browser', () => {
	it('are the project’s own pages and pages below them', () => {
		for (const link of projectLinks) expect(isProjectLink(link)).toBe(true);
		expect(
			isProjectLink('https://github.com/mbaradad/learning_with_noise/blob/main/README.md')
		).toBe(true);
		expect(isProjectLink('https://arxiv.org/abs/2106.05963v2')).toBe(false);
		expect(isProjectLink('https://arxiv.org/abs/2106.05963/')).toBe(true);
	});

	it('are never another site, scheme, user-info trick or a look-alike path', () => {
		for (const url of [
			'https://evil.example/',
			'http://arxiv.org/abs/2106.05963',
			'file:///etc/passwd',
			'smb://host/share',
			'javascript:alert(1)',
			'https://github.com/mbaradad/learning_with_noise-evil',
			'https://github.com/someone-else',
			'https://arxiv.org@evil.example/abs/2106.05963',
			'https://user:pass@github.com/mbaradad/learning_with_noise',
			'https://github.com.evil.example/mbaradad/learning_with_noise',
			'not a url'
		]) {
			expect(isProjectLink(url), url).toBe(false);
		}
	});
});
