/**
 * `MaxPoolGrad` for the tfjs `webgpu` backend with the cpu backend's (and PyTorch's) tie rule.
 *
 * tfjs-backend-webgpu 4.22 finds each window's maximum with `value >= max`, so a tie goes to
 * the window's last maximum; tfjs-backend-cpu, the wasm kernel pack and PyTorch send it to the
 * first one in row-major order. After a ReLU most windows of the deeper blocks hold several
 * zeros, so the two rules route much of the gradient to different pixels: one training step of
 * `tiny` changed conv3's gradient by about 100 %. This kernel is a gather, one invocation per
 * input element: it rescans every window that covers the element (strict `>` from -Infinity,
 * so a window of only NaN or -Infinity passes no gradient, as on cpu) and adds dy where the
 * element is that window's first maximum.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { webgpuUtil, type WebGpuComputeBackend, type WebGpuProgram } from './webgpu-program';

class FirstMaxPoolBackpropProgram implements WebGpuProgram {
	readonly variableNames = ['x', 'dy'];
	readonly uniforms =
		'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>, outDims : vec2<i32>,';
	readonly workgroupSize: [number, number, number] = [64, 1, 1];
	readonly size = true;
	readonly outputShape: number[];
	readonly dispatchLayout: { x: number[] };
	readonly dispatch: [number, number, number];
	readonly shaderKey = 'noiselabMaxPoolGradFirstMax';

	constructor(inShape: number[]) {
		this.outputShape = inShape;
		this.dispatchLayout = webgpuUtil().flatDispatchLayout(inShape);
		this.dispatch = webgpuUtil().computeDispatch(this.dispatchLayout, inShape, this.workgroupSize);
	}

	getUserCode(): string {
		return `
      fn main(index : i32) {
        if (index >= uniforms.size) {
          return;
        }
        let coords = getCoordsFromIndex(index);
        let batch = coords[0];
        let row = coords[1];
        let col = coords[2];
        let d = coords[3];
        let inDims = vec2<i32>(uniforms.xShape[1], uniforms.xShape[2]);
        // Windows whose rows cover this element: corner = out * stride - pad <= row < corner + size.
        let firstOut = max(vec2<i32>(0), (vec2<i32>(row, col) + uniforms.pads - uniforms.filterDims
          + uniforms.strides) / uniforms.strides);
        let lastOut = min(uniforms.outDims - vec2<i32>(1), (vec2<i32>(row, col) + uniforms.pads)
          / uniforms.strides);
        var sum = 0.0;
        for (var outRow = firstOut.x; outRow <= lastOut.x; outRow++) {
          for (var outCol = firstOut.y; outCol <= lastOut.y; outCol++) {
            let corner = vec2<i32>(outRow, outCol) * uniforms.strides - uniforms.pads;
            let start = max(corner, vec2<i32>(0));
            let end = min(corner + uniforms.filterDims, inDims);
            var best = 0.0;
            var found = false;
            var bestRow = -1;
            var bestCol = -1;
            for (var r = start.x; r < end.x; r++) {
              for (var c = start.y; c < end.y; c++) {
                let value = getX(batch, r, c, d);
                // Strict '>' from -Infinity: the first maximum wins; NaN never does.
                if ((found && value > best) || (!found && value >= -3.402823466e38)) {
                  best = value;
                  found = true;
                  bestRow = r;
                  bestCol = c;
                }
              }
            }
            if (bestRow == row && bestCol == col) {
              sum = sum + getDy(batch, outRow, outCol, d);
            }
          }
        }
        setOutputAtIndex(index, sum);
      }
    `;
	}
}

function maxPoolGrad(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
	const backend = args.backend as unknown as WebGpuComputeBackend;
	const attrs = (args.attrs ?? {}) as NamedAttrMap;
	const dy = args.inputs.dy as TensorInfo;
	const input = args.inputs.input as TensorInfo;
	const info = tf.backend_util.computePool2DInfo(
		input.shape as [number, number, number, number],
		attrs.filterSize as [number, number] | number,
		attrs.strides as [number, number] | number,
		1,
		attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
		attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined
	);
	const program = new FirstMaxPoolBackpropProgram([...input.shape]);
	return backend.runWebGPUProgram(program, [input, dy], 'float32', [
		{ type: 'int32', data: [info.strideHeight, info.strideWidth] },
		{ type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
		{ type: 'int32', data: [info.filterHeight, info.filterWidth] },
		{ type: 'int32', data: [info.outHeight, info.outWidth] }
	]);
}

/** The kernel's registration; see {@link registerWebGpuKernelPack}. */
export const webgpuMaxPoolGradConfig: KernelConfig = {
	kernelName: tf.MaxPoolGrad,
	backendName: 'webgpu',
	kernelFunc: maxPoolGrad as unknown as tf.KernelFunc
};
