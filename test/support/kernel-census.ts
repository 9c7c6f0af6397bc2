/**
 * A kernel census: records every kernel a piece of tfjs code dispatches on one backend (name,
 * attributes, input and output values) and replays each distinct call on another backend, so
 * that a backend is checked kernel by kernel on exactly the calls the app makes (forward and
 * backward passes alike: gradient kernels are kernels too).
 */
import * as tf from '@tensorflow/tfjs-core';

/** One tensor of a recorded call, downloaded. */
export interface RecordedTensor {
	shape: number[];
	dtype: tf.DataType;
	values: tf.TypedArray;
}

/** One kernel call as it happened. */
export interface RecordedCall {
	kernel: string;
	/** Inputs by the kernel's input names (by index for kernels that take a list: Concat, AddN…). */
	inputs: Record<string, RecordedTensor>;
	inputsAreList: boolean;
	attrs: Record<string, unknown>;
	outputs: RecordedTensor[];
	/** Kernel, shapes, dtypes and attributes: calls with equal signatures differ only in values. */
	signature: string;
}

interface PendingTensor {
	info: tf.TensorInfo;
}

type Pending = Omit<RecordedCall, 'inputs' | 'outputs'> & {
	inputs: Record<string, PendingTensor>;
	outputs: PendingTensor[];
};

function signatureOf(
	kernel: string,
	inputs: Record<string, tf.TensorInfo>,
	attrs: Record<string, unknown>
): string {
	const shapes = Object.entries(inputs)
		.map(([name, info]) => `${name}:${info.dtype}[${info.shape.join(',')}]`)
		.join(' ');
	return `${kernel} ${shapes} ${JSON.stringify(attrs)}`;
}

/**
 * Runs `action` on `backendName` (already active) and returns every distinct kernel call it
 * made, first occurrence of each signature, with its values. Kernels are wrapped for the
 * duration only; the backend keeps the recorded tensors alive until they are read.
 */
export async function recordKernelCalls(
	backendName: string,
	action: () => Promise<void> | void
): Promise<RecordedCall[]> {
	const backend = tf.findBackend(backendName) as tf.KernelBackend & {
		incRef(dataId: object): void;
		disposeData(dataId: object, force?: boolean): boolean;
	};
	const originals = tf.getKernelsForBackend(backendName);
	const pending: Pending[] = [];
	const seen = new Set<string>();
	const retain = (info: tf.TensorInfo): PendingTensor => {
		backend.incRef(info.dataId);
		return { info: { dataId: info.dataId, shape: [...info.shape], dtype: info.dtype } };
	};
	for (const config of originals) {
		tf.unregisterKernel(config.kernelName, backendName);
		tf.registerKernel({
			...config,
			kernelFunc: (args) => {
				const result = config.kernelFunc(args);
				const inputs = args.inputs as Record<string, tf.TensorInfo>;
				const attrs = structuredClone((args.attrs ?? {}) as Record<string, unknown>);
				const signature = signatureOf(config.kernelName, inputs, attrs);
				if (!seen.has(signature) && !(result instanceof Promise)) {
					seen.add(signature);
					const outputs = Array.isArray(result) ? result : [result as tf.TensorInfo];
					pending.push({
						kernel: config.kernelName,
						inputsAreList: Array.isArray(args.inputs),
						signature,
						attrs,
						inputs: Object.fromEntries(
							Object.entries(inputs)
								.filter(([, info]) => info !== null && info !== undefined)
								.map(([name, info]) => [name, retain(info)])
						),
						outputs: outputs.map(retain)
					});
				}
				return result;
			}
		});
	}
	try {
		await action();
	} finally {
		for (const config of originals) {
			tf.unregisterKernel(config.kernelName, backendName);
			tf.registerKernel(config);
		}
	}
	const download = async ({ info }: PendingTensor): Promise<RecordedTensor> => {
		const values = (await backend.read(info.dataId)) as tf.TypedArray;
		backend.disposeData(info.dataId);
		return { shape: info.shape, dtype: info.dtype, values: values.slice() };
	};
	const calls: RecordedCall[] = [];
	for (const call of pending) {
		const inputs: Record<string, RecordedTensor> = {};
		for (const [name, tensor] of Object.entries(call.inputs)) inputs[name] = await download(tensor);
		const outputs: RecordedTensor[] = [];
		for (const tensor of call.outputs) outputs.push(await download(tensor));
		calls.push({ ...call, inputs, outputs });
	}
	return calls;
}

/** Largest absolute difference over the largest magnitude of `expected` (at least `floor`). */
export function relativeDifference(
	actual: ArrayLike<number>,
	expected: ArrayLike<number>,
	floor = 1e-6
): number {
	let difference = 0;
	let scale = floor;
	for (let i = 0; i < expected.length; i++) {
		const a = actual[i] ?? Number.NaN;
		const e = expected[i] ?? Number.NaN;
		if (Number.isNaN(a) !== Number.isNaN(e)) return Number.POSITIVE_INFINITY;
		// Equal infinities (a masked log-sum-exp) and equal NaNs agree.
		if (a === e || Number.isNaN(e)) continue;
		difference = Math.max(difference, Math.abs(a - e));
		scale = Math.max(scale, Math.abs(e));
	}
	return difference / scale;
}

/** A replayed call's outputs on the reference backend. */
export interface ReplayedCall {
	call: RecordedCall;
	/** The reference backend's outputs. */
	expected: RecordedTensor[];
	/** Per output, {@link relativeDifference} of the recorded against the reference values. */
	errors: number[];
}

/**
 * The filter gradient of a 2-D convolution (NHWC, dilation 1) as one matrix product per filter
 * tap, `Σ x[tap-shifted]ᵀ · dy`, on the active backend. The cpu backend's own
 * Conv2DBackpropFilter is a direct loop at about 15 MFLOP/s, 70 times slower than its matmul;
 * this computes the same sums in another order.
 */
export function filterGradientByTaps(
	x: tf.Tensor4D,
	dy: tf.Tensor4D,
	attrs: Record<string, unknown>
): tf.Tensor4D {
	const filterShape = attrs.filterShape as [number, number, number, number];
	const info = tf.backend_util.computeConv2DInfo(
		x.shape,
		filterShape,
		attrs.strides as number | [number, number],
		1,
		attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
		attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined
	);
	const { outHeight, outWidth, strideHeight, strideWidth, padInfo, inHeight, inWidth } = info;
	const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
	return tf.tidy(() => {
		const bottom = Math.max(
			0,
			(outHeight - 1) * strideHeight + filterHeight - padInfo.top - inHeight
		);
		const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - padInfo.left - inWidth);
		const padded = tf.pad(x, [
			[0, 0],
			[padInfo.top, bottom],
			[padInfo.left, right],
			[0, 0]
		]);
		const rows = x.shape[0] * outHeight * outWidth;
		const gradient = tf.reshape(dy, [rows, outChannels]) as tf.Tensor2D;
		const taps: tf.Tensor2D[] = [];
		for (let row = 0; row < filterHeight; row++) {
			for (let column = 0; column < filterWidth; column++) {
				const shifted = tf.stridedSlice(
					padded,
					[0, row, column, 0],
					[
						x.shape[0],
						row + (outHeight - 1) * strideHeight + 1,
						column + (outWidth - 1) * strideWidth + 1,
						inChannels
					],
					[1, strideHeight, strideWidth, 1]
				);
				taps.push(
					tf.matMul(tf.reshape(shifted, [rows, inChannels]) as tf.Tensor2D, gradient, true)
				);
			}
		}
		return tf.reshape(tf.stack(taps), filterShape);
	});
}

/** Options of {@link replayKernelCalls}. */
export interface ReplayOptions {
	/** Compute Conv2DBackpropFilter's reference with {@link filterGradientByTaps}. */
	fastFilterGradient?: boolean;
}

/**
 * Runs each recorded call again on `referenceBackend` (made active here) with the recorded
 * inputs and compares the recorded outputs against its outputs.
 */
export async function replayKernelCalls(
	calls: readonly RecordedCall[],
	referenceBackend: string,
	options: ReplayOptions = {}
): Promise<ReplayedCall[]> {
	if (!(await tf.setBackend(referenceBackend))) {
		throw new Error(`The ${referenceBackend} backend did not start.`);
	}
	const replayed: ReplayedCall[] = [];
	for (const call of calls) {
		const expected = tf
			.tidy(() => {
				const entries = Object.entries(call.inputs).map(
					([name, t]) => [name, tf.tensor(t.values, t.shape, t.dtype)] as const
				);
				const inputs = call.inputsAreList
					? (entries.map(([, tensor]) => tensor) as unknown as tf.NamedTensorMap)
					: Object.fromEntries(entries);
				const byTaps =
					options.fastFilterGradient === true &&
					call.kernel === tf.Conv2DBackpropFilter &&
					(call.attrs.dataFormat ?? 'NHWC') === 'NHWC';
				const result = byTaps
					? filterGradientByTaps(inputs.x as tf.Tensor4D, inputs.dy as tf.Tensor4D, call.attrs)
					: tf.engine().runKernel(call.kernel, inputs, call.attrs as tf.NamedAttrMap);
				return Array.isArray(result) ? result : [result];
			})
			.map((tensor) => {
				// Read outside the tidy: a tidy walks what it returns, a typed array element by element.
				const values = tensor.dataSync().slice() as tf.TypedArray;
				const read = { shape: [...tensor.shape], dtype: tensor.dtype, values };
				tensor.dispose();
				return read;
			});
		const errors = call.outputs.map((output, index) => {
			const reference = expected[index];
			if (!reference || reference.values.length !== output.values.length) {
				return Number.POSITIVE_INFINITY;
			}
			return relativeDifference(output.values, reference.values);
		});
		replayed.push({ call, expected, errors });
	}
	return replayed;
}
