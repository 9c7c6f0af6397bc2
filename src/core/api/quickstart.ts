/** Contract types of the quickstart: the whole paper loop in a few minutes on a laptop CPU. */
import { z } from 'zod';

/**
 * The quickstart's defaults: about 2.5 minutes of pretraining on this project's 2-core reference
 * machine, under 4 minutes in all. Adam, not the paper's SGD: in 100 steps it moves the encoder
 * clearly past random init (measured +3.5 points on Fashion-MNIST, +5.8 on counting), where SGD
 * at the paper's lr rule barely does (+0.1, +0.4).
 */
export const quickstartDefaults = {
	preset: 'dead_leaves-mixed',
	model: 'tiny',
	optimizer: 'adam',
	steps: 100,
	batch: 64,
	datasets: ['fashion-mnist-mini', 'structured:count-shapes']
} as const;

export const quickstartParamsSchema = z
	.object({
		steps: z.number().int().min(1).max(100_000).default(quickstartDefaults.steps),
		batch: z.number().int().min(4).max(512).default(quickstartDefaults.batch),
		/** Linear-probe epochs per dataset (the paper: 100). */
		epochs: z.number().int().min(1).max(300).default(30)
	})
	.strict();

/** Where the quickstart stands; pushed as `quickstart.changed`. */
export const quickstartStateSchema = z.object({
	stage: z.enum(['pretraining', 'evaluating', 'completed', 'failed', 'cancelled']),
	runId: z.number().int().nullable(),
	groupIds: z.array(z.string()),
	message: z.string(),
	startedAt: z.string(),
	/** Wall-clock seconds so far (or in all, once finished). */
	seconds: z.number(),
	/** Linear-probe top-1 per dataset: the noise-trained encoder and its random-init control. */
	results: z.array(
		z.object({ dataset: z.string(), noise: z.number().nullable(), random: z.number().nullable() })
	)
});

/** See {@link quickstartStateSchema}. */
export type QuickstartState = z.infer<typeof quickstartStateSchema>;
