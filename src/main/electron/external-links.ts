/**
 * The only pages outside the app that the desktop app opens, in the system browser: the
 * project's own references. Any other URL a page asks to open (a link in a run's notes, a
 * compromised renderer) stays closed, so the app cannot be used to launch arbitrary URLs or
 * schemes (`file:`, `smb:`, custom handlers) through the operating system.
 */
export const projectLinks = [
	// The paper, its project page and its code.
	'https://arxiv.org/abs/2106.05963',
	'https://mbaradad.github.io/learning_with_noise/',
	'https://github.com/mbaradad/learning_with_noise',
	// The source of the bundled Fashion-MNIST subset.
	'https://github.com/zalandoresearch/fashion-mnist'
] as const;

/** Whether `url` is one of {@link projectLinks} or a page below one (same origin, path inside). */
export function isProjectLink(url: string): boolean {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return false;
	}
	if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '')
		return false;
	return projectLinks.some((link) => {
		const allowed = new URL(link);
		const base = allowed.pathname.replace(/\/$/, '');
		return (
			parsed.origin === allowed.origin &&
			(parsed.pathname === base || parsed.pathname.startsWith(`${base}/`))
		);
	});
}
