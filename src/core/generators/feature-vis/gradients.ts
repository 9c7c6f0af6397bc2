/**
 * Gradients for the kernels feature visualisation differentiates through.
 *
 * tfjs-core registers its gradients only in its ES-module build
 * (`dist/register_all_gradients.js`); the CommonJS bundle that Node loads (`tf-core.node.js`,
 * used by the app's workers, the CLI and the tests) has none, and that ES-module file cannot be
 * imported by Node directly (extensionless imports). The `@tensorflow/tfjs` union package,
 * which would register them, is not a dependency. So this module registers the few gradients
 * needed here, each only when none is registered yet (the tfjs-node backend brings its own).
 * They follow tfjs-core's own definitions; only gradients with respect to the image are ever
 * evaluated, so e.g. Conv2D's filter gradient is never computed.
 */
import * as tf from '@tensorflow/tfjs-core';

type Attrs = tf.NamedAttrMap;

/** Sums `dy` over the axes along which `shape` was broadcast, back to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
	const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
	return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** Spreads the gradient of a reduction over `axis` back to the input's shape. */
function unreduce(dy: tf.Tensor, x: tf.Tensor, axis: number | number[] | null): tf.Tensor {
	const reducedAxes =
		axis == null ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis, x.shape);
	const keptShape = x.shape.map((size, i) => (reducedAxes.includes(i) ? 1 : size));
	return tf.mul(tf.reshape(dy, keptShape), tf.ones(x.shape));
}

const gradients: tf.GradConfig[] = [
	{
		kernelName: tf.Neg,
		gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) })
	},
	{
		kernelName: tf.Add,
		inputsToSave: ['a', 'b'],
		gradFunc: (dy, [a, b]) => ({
			a: () => unbroadcast(dy as tf.Tensor, (a as tf.Tensor).shape),
			b: () => unbroadcast(dy as tf.Tensor, (b as tf.Tensor).shape)
		})
	},
	{
		kernelName: tf.Sub,
		inputsToSave: ['a', 'b'],
		gradFunc: (dy, [a, b]) => ({
			a: () => unbroadcast(dy as tf.Tensor, (a as tf.Tensor).shape),
			b: () => tf.neg(unbroadcast(dy as tf.Tensor, (b as tf.Tensor).shape))
		})
	},
	{
		kernelName: tf.Multiply,
		inputsToSave: ['a', 'b'],
		gradFunc: (dy, [a, b]) => ({
			a: () => unbroadcast(tf.mul(dy as tf.Tensor, b as tf.Tensor), (a as tf.Tensor).shape),
			b: () => unbroadcast(tf.mul(dy as tf.Tensor, a as tf.Tensor), (b as tf.Tensor).shape)
		})
	},
	{
		kernelName: tf.RealDiv,
		inputsToSave: ['a', 'b'],
		gradFunc: (dy, [a, b]) => ({
			a: () => unbroadcast(tf.div(dy as tf.Tensor, b as tf.Tensor), (a as tf.Tensor).shape),
			b: () =>
				unbroadcast(
					tf.neg(tf.div(tf.mul(dy as tf.Tensor, a as tf.Tensor), tf.square(b as tf.Tensor))),
					(b as tf.Tensor).shape
				)
		})
	},
	{
		kernelName: tf.Sum,
		inputsToSave: ['x'],
		gradFunc: (dy, [x], attrs: Attrs) => ({
			x: () => unreduce(dy as tf.Tensor, x as tf.Tensor, attrs.axis as number | number[])
		})
	},
	{
		kernelName: tf.Mean,
		inputsToSave: ['x'],
		gradFunc: (dy, [x], attrs: Attrs) => ({
			x: () => {
				const input = x as tf.Tensor;
				const spread = unreduce(dy as tf.Tensor, input, attrs.axis as number | number[]);
				return tf.div(spread, input.size / (dy as tf.Tensor).size);
			}
		})
	},
	{
		kernelName: tf.Reshape,
		inputsToSave: ['x'],
		gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy as tf.Tensor, (x as tf.Tensor).shape) })
	},
	{
		kernelName: tf.Transpose,
		gradFunc: (dy, _saved, attrs: Attrs) => {
			const perm = attrs.perm as number[];
			const inverse = perm.map((_, i) => perm.indexOf(i));
			return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
		}
	},
	{
		kernelName: tf.BatchMatMul,
		inputsToSave: ['a', 'b'],
		gradFunc: (dy, [a, b], attrs: Attrs) => {
			const g = dy as tf.Tensor;
			const left = a as tf.Tensor;
			const right = b as tf.Tensor;
			const transposeA = attrs.transposeA as boolean;
			const transposeB = attrs.transposeB as boolean;
			if (!transposeA && !transposeB) {
				return {
					a: () => tf.matMul(g, right, false, true),
					b: () => tf.matMul(left, g, true, false)
				};
			}
			if (!transposeA && transposeB) {
				return {
					a: () => tf.matMul(g, right, false, false),
					b: () => tf.matMul(g, left, true, false)
				};
			}
			if (transposeA && !transposeB) {
				return {
					a: () => tf.matMul(right, g, false, true),
					b: () => tf.matMul(left, g, false, false)
				};
			}
			return {
				a: () => tf.matMul(right, g, true, true),
				b: () => tf.matMul(g, left, true, true)
			};
		}
	},
	{
		kernelName: tf.Sigmoid,
		outputsToSave: [true],
		gradFunc: (dy, [y]) => ({
			x: () => tf.mul(dy as tf.Tensor, tf.mul(y as tf.Tensor, tf.sub(1, y as tf.Tensor)))
		})
	},
	{
		kernelName: tf.Relu,
		inputsToSave: ['x'],
		gradFunc: (dy, [x]) => ({
			x: () => tf.mul(dy as tf.Tensor, tf.step(tf.cast(x as tf.Tensor, 'float32')))
		})
	},
	{
		kernelName: tf.PadV2,
		inputsToSave: ['x'],
		gradFunc: (dy, [x], attrs: Attrs) => {
			const paddings = attrs.paddings as [number, number][];
			const begin = paddings.map((p) => p[0]);
			return { x: () => tf.slice(dy as tf.Tensor, begin, (x as tf.Tensor).shape) };
		}
	},
	{
		kernelName: tf.Slice,
		inputsToSave: ['x'],
		gradFunc: (dy, [x], attrs: Attrs) => {
			const input = x as tf.Tensor;
			const begin = typeof attrs.begin === 'number' ? [attrs.begin] : (attrs.begin as number[]);
			const size = (dy as tf.Tensor).shape;
			const paddings = input.shape.map(
				(dim, i) =>
					[begin[i] as number, dim - (begin[i] as number) - (size[i] as number)] as [number, number]
			);
			return { x: () => tf.pad(dy as tf.Tensor, paddings) };
		}
	},
	{
		kernelName: tf.Conv2D,
		inputsToSave: ['x', 'filter'],
		gradFunc: (dy, [x, filter], attrs: Attrs) => ({
			x: () =>
				tf
					.engine()
					.runKernel(tf.Conv2DBackpropInput, { dy: dy as tf.Tensor, filter: filter as tf.Tensor }, {
						strides: attrs.strides,
						pad: attrs.pad,
						dataFormat: attrs.dataFormat,
						dimRoundingMode: attrs.dimRoundingMode,
						inputShape: (x as tf.Tensor).shape
					} as unknown as Attrs) as tf.Tensor
		})
	},
	{
		kernelName: tf.MaxPool,
		inputsToSave: ['x'],
		outputsToSave: [true],
		gradFunc: (dy, [x, y], attrs: Attrs) => ({
			x: () =>
				tf
					.engine()
					.runKernel(
						tf.MaxPoolGrad,
						{ dy: dy as tf.Tensor, input: x as tf.Tensor, output: y as tf.Tensor },
						{
							filterSize: attrs.filterSize,
							strides: attrs.strides,
							pad: attrs.pad,
							dimRoundingMode: attrs.dimRoundingMode
						} as unknown as Attrs
					) as tf.Tensor
		})
	},
	{
		kernelName: tf.ResizeBilinear,
		inputsToSave: ['images'],
		gradFunc: (dy, [images], attrs: Attrs) => ({
			images: () =>
				tf
					.engine()
					.runKernel(
						tf.ResizeBilinearGrad,
						{ images: images as tf.Tensor, dy: dy as tf.Tensor },
						attrs
					) as tf.Tensor
		})
	}
];

let registered = false;

/** Registers the gradients above that no one has registered yet (idempotent, cheap). */
export function ensureFeatureVisGradients(): void {
	if (registered) return;
	for (const config of gradients) {
		if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
	}
	registered = true;
}
