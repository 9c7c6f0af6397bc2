/** How every area shows an API failure: what went wrong and what to do next. */
import { errorCodes, type AppError } from '../../core/api/errors';

/** An API failure as shown in the UI. */
export interface ShownError {
	message: string;
	hint: string;
}

/** An API failure as the forms show it: the message and what to do next. */
export function describeError(error: AppError): ShownError {
	return { message: error.message, hint: errorCodes[error.code].hint };
}
