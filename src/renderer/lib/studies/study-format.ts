/** How the Studies area words studies and queue items: statuses, percentages, durations. */
import type { QueueItem, StudyRecord } from '../../../core/api/studies';

type Tone = 'active' | 'ok' | 'warn' | 'error' | 'muted';

/** Each study status as words, a symbol and a tone. */
export const studyStatusPresentation: Record<
	StudyRecord['status'],
	{ label: string; symbol: string; tone: Tone }
> = {
	queued: { label: 'Queued', symbol: '⋯', tone: 'muted' },
	running: { label: 'Running', symbol: '▶', tone: 'active' },
	completed: { label: 'Completed', symbol: '✓', tone: 'ok' },
	incomplete: { label: 'Incomplete', symbol: '!', tone: 'warn' }
};

/** Each queue item state as words, a symbol and a tone. */
export const itemStatePresentation: Record<
	QueueItem['state'],
	{ label: string; symbol: string; tone: Tone }
> = {
	queued: { label: 'Queued', symbol: '⋯', tone: 'muted' },
	running: { label: 'Running', symbol: '▶', tone: 'active' },
	done: { label: 'Done', symbol: '✓', tone: 'ok' },
	failed: { label: 'Failed', symbol: '✕', tone: 'error' },
	cancelled: { label: 'Cancelled', symbol: '■', tone: 'muted' }
};

/** What each kind of item does, in a word. */
export const itemKindLabels: Record<QueueItem['kind'], string> = {
	generate: 'Dataset',
	train: 'Training',
	evaluate: 'Evaluation'
};

/** A fraction in [0, 1] as a percentage with one decimal, or `–`. */
export function formatTop1(fraction: number | null | undefined, digits = 1): string {
	return fraction === null || fraction === undefined || !Number.isFinite(fraction)
		? '–'
		: (fraction * 100).toFixed(digits);
}

/** A study's overall progress in [0, 1]: trainings and evaluations done over all. */
export function studyProgressFraction(study: StudyRecord): number {
	const { trainings, evaluations } = study.progress;
	const total = trainings.total + evaluations.total;
	return total === 0 ? 1 : (trainings.done + evaluations.done) / total;
}
