/**
 * The web server's last line of defence. Every socket has its own error handling; this catches
 * what slips past it, and only where surviving is safe.
 *
 * An error from a client's socket (a reset, a broken pipe, a protocol violation) concerns that
 * connection alone: its stream is already destroyed and nothing else shares its state, so
 * logging it and serving on is a complete recovery. Any other uncaught exception means the
 * program reached a state nobody planned for (a half-updated run, a service mid-change); going
 * on could write wrong data into the store, so the process logs it and exits as Node would, and
 * runs in flight are marked interrupted (resumable) at the next start.
 */

/** Error codes of a single client connection that has gone wrong or gone away. */
const socketErrorCodes = new Set([
	'ECONNRESET',
	'EPIPE',
	'ECONNABORTED',
	'ECONNREFUSED',
	'ETIMEDOUT',
	'ENOTCONN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'ERR_STREAM_PREMATURE_CLOSE',
	'ERR_STREAM_WRITE_AFTER_END',
	'ERR_STREAM_DESTROYED'
]);

/** Starts every line the handler logs, so a test can tell that it was needed. */
export const lastResortMarker = 'noiselab serve: uncaught';

/**
 * Whether an error belongs to one client connection: a network error code, a WebSocket
 * protocol error from `ws` (`WS_ERR_…`) or an HTTP parser error (`HPE_…`).
 */
export function isSocketLevelError(error: unknown): boolean {
	if (!(error instanceof Error)) return false;
	const code = (error as NodeJS.ErrnoException).code;
	if (typeof code !== 'string') return false;
	return socketErrorCodes.has(code) || code.startsWith('WS_ERR_') || code.startsWith('HPE_');
}

/**
 * The handler: socket-level errors are logged and survived, anything else is logged and ends
 * the process with exit code 1.
 */
export function lastResortHandler(
	log: (line: string) => void,
	exit: (code: number) => void
): (error: unknown, origin: string) => void {
	return (error, origin) => {
		if (isSocketLevelError(error)) {
			const { code, message } = error as NodeJS.ErrnoException;
			log(
				`${lastResortMarker} socket error (${code}: ${message}); the connection is dropped, still serving.`
			);
			return;
		}
		log(
			`${lastResortMarker} ${origin === 'unhandledRejection' ? 'promise rejection' : 'exception'}; stopping.\n` +
				(error instanceof Error ? (error.stack ?? error.message) : String(error))
		);
		exit(1);
	};
}

/** Installs {@link lastResortHandler} for this process; returns the function that removes it. */
export function installLastResortHandler(log: (line: string) => void): () => void {
	const handler = lastResortHandler(log, (code) => process.exit(code));
	process.on('uncaughtException', handler);
	return () => process.off('uncaughtException', handler);
}
