/**
 * The single table of error codes that can cross a process boundary.
 *
 * Every failure a user can meet is one of these codes plus a message that names what was wrong,
 * the value received and what to do next. `hint` is the generic "what to do next" that a UI can
 * show when a message does not carry its own.
 */
export const errorCodes = {
	INVALID_REQUEST: {
		status: 400,
		hint: 'Check the fields named in the message and send the request again.'
	},
	UNKNOWN_METHOD: {
		status: 404,
		hint: 'The app and its API are out of step: reload the window or reinstall NoiseLab.'
	},
	NOT_FOUND: { status: 404, hint: 'The item may have been deleted; refresh the list.' },
	UNAUTHORIZED: {
		status: 401,
		hint: 'Open the URL printed by `noiselab serve`, including its ?token=… part.'
	},
	DISCONNECTED: {
		status: 503,
		hint: 'Lost the connection to NoiseLab. Check that `noiselab serve` is still running; the page reconnects by itself.'
	},
	CANCELLED: { status: 499, hint: 'The work was cancelled; start it again when you are ready.' },
	WORKER_CRASHED: {
		status: 500,
		hint: 'A worker process stopped unexpectedly. The app is still running; try again, and see `noiselab doctor` if it repeats.'
	},
	WORKER_TIMEOUT: {
		status: 504,
		hint: 'A worker did not answer in time. The machine may be busy; try again.'
	},
	FOLDER_CONFLICT: {
		status: 409,
		hint: 'Choose an empty folder, or the folder of the same dataset to resume it.'
	},
	DISK_FULL: {
		status: 507,
		hint: 'Free some disk space, then resume: a run continues from its last intact checkpoint, an export from the images already written.'
	},
	IO_ERROR: {
		status: 500,
		hint: 'Check that the folder exists and is writable, then try again.'
	},
	STORE_SCHEMA_TOO_NEW: {
		status: 409,
		hint: 'Update NoiseLab, or point NOISELAB_HOME at another folder.'
	},
	DATA_FOLDER_BUSY: {
		status: 423,
		hint: 'Another NoiseLab process owns this data folder: stop the one the message names, or set NOISELAB_HOME to another folder.'
	},
	STORE_UNAVAILABLE: {
		status: 503,
		hint: 'Check that the data folder exists and is writable (`noiselab doctor` shows it).'
	},
	BACKEND_UNAVAILABLE: {
		status: 503,
		hint: 'Pick another compute backend in Settings; `noiselab doctor` says why each is unavailable.'
	},
	PATH_NOT_ALLOWED: {
		status: 403,
		hint: 'Web mode uses only the data folder and the folders allowed in Settings → Folders; allow the folder there, or start noiselab serve with --allow-folder DIR.'
	},
	TOO_LARGE: {
		status: 413,
		hint: 'Send less at once: choose a smaller file (the message names the limit).'
	},
	BUSY: {
		status: 409,
		hint: 'Wait for the running job to finish, or pause it first.'
	},
	GPU_DEVICE_LOST: {
		status: 503,
		hint: 'The GPU was reset or removed. Resume the run: it continues from its last checkpoint.'
	},
	OUT_OF_MEMORY: {
		status: 507,
		hint: 'Use a smaller batch or model preset, or close other programs, then resume the run.'
	},
	INTERNAL: {
		status: 500,
		hint: 'This is a bug in NoiseLab. The app is still usable; please report the message.'
	}
} as const satisfies Record<string, { status: number; hint: string }>;

/** One of the codes in {@link errorCodes}. */
export type ErrorCode = keyof typeof errorCodes;

/** The list of known codes, for validators. */
export const errorCodeList = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]];

/** A failure as it crosses a process boundary: plain data, safe to serialise. */
export interface AppError {
	code: ErrorCode;
	message: string;
}

/** The outcome of every API call and worker task. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

/** Wraps a value as a successful {@link Result}. */
export function ok<T>(value: T): Result<T> {
	return { ok: true, value };
}

/** Builds a failed {@link Result}. */
export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
	return { ok: false, error: { code, message } };
}

/**
 * An exception that carries an {@link ErrorCode}, so that code deep inside a service can fail
 * with a precise code and the dispatcher turns it into a {@link Result}.
 */
export class AppFailure extends Error {
	/** Creates a failure with a code from the table and a user-facing message. */
	constructor(
		readonly code: ErrorCode,
		message: string
	) {
		super(message);
		this.name = 'AppFailure';
	}

	/** The plain-data form that crosses process boundaries. */
	toError(): AppError {
		return { code: this.code, message: this.message };
	}
}

/** Converts anything thrown into an {@link AppError}; unknown exceptions become INTERNAL. */
export function toAppError(thrown: unknown): AppError {
	if (thrown instanceof AppFailure) return thrown.toError();
	const message = thrown instanceof Error ? thrown.message : String(thrown);
	return { code: 'INTERNAL', message: `Unexpected error: ${message}` };
}

/** Unwraps a {@link Result}, throwing an {@link AppFailure} when it failed. */
export function unwrap<T>(result: Result<T>): T {
	if (result.ok) return result.value;
	throw new AppFailure(result.error.code, result.error.message);
}
