/** Interop's service layer: encoders in from PyTorch/safetensors files, and out for PyTorch. */
import type { ExportEncoderResult, ImportEncoderParams } from '../../core/api/interop';
import type { RunRecord } from '../../core/api/training';
import type { EventBus } from '../events';
import { exportEncoderFolder } from '../interop/export-encoder';
import { importEncoderFile } from '../interop/import-encoder-file';
import type { Store } from '../store/database';

export interface InteropServiceOptions {
	/** Where run folders live (`<data>/runs`). */
	runsDir: string;
	appVersion: string;
}

/** Imports external encoders as runs of kind `imported`, and exports any run's encoder. */
export class InteropService {
	constructor(
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly options: InteropServiceOptions
	) {}

	/** Imports a checkpoint file as a new external encoder. */
	importEncoder(params: ImportEncoderParams): RunRecord {
		const run = importEncoderFile(this.store().db, params, this.options);
		this.events.emit('runs.changed', run);
		return run;
	}

	/** Writes a run's newest encoder as safetensors + PyTorch module + config into a new folder. */
	exportEncoder(id: number, folder: string): ExportEncoderResult {
		return exportEncoderFolder(this.store().db, id, folder);
	}
}
