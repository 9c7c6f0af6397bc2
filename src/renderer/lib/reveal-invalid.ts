/**
 * After a form refused to submit: the first field marked invalid is brought into view (a closed
 * disclosure around it is opened) and focused, so "Fix the field marked above" always points at
 * something on screen. Every form uses it; each marks its invalid fields with aria-invalid.
 */
import { tick } from 'svelte';

/** Opens, scrolls to and focuses the first `[aria-invalid="true"]` in `form`; false when none. */
export async function revealFirstInvalid(form: HTMLElement | undefined): Promise<boolean> {
	await tick();
	const field = form?.querySelector<HTMLElement>('[aria-invalid="true"]');
	if (!field) return false;
	const disclosure = field.closest('details');
	if (disclosure && !disclosure.open) {
		disclosure.open = true;
		await tick();
	}
	field.scrollIntoView({ block: 'center' });
	field.focus({ preventScroll: true });
	return true;
}
