/**
 * The project's kernel pack for training on the tfjs `wasm` backend: the kernels tfjs-backend-wasm
 * 4.22 lacks or runs far slower than it could. Import `@tensorflow/tfjs-backend-wasm` first.
 */
import { registerWasmConvBackprop } from './wasm-conv-backprop';
import { registerWasmLeadingSum } from './wasm-leading-sum';
import { registerWasmMaxPoolGrad } from './wasm-max-pool-grad';
import { registerWasmShortMatMul } from './wasm-short-matmul';

/**
 * Registers every kernel of the pack for the wasm backend: the convolution and both its
 * gradients (on the SIMD kernels of `wasm-simd-module.ts` where the shape allows), `MaxPoolGrad`,
 * `BatchMatMul` for a short left matrix (batch norm's group sums) and `Sum` over all axes but
 * the last (bias gradients). Idempotent; call before or after `setBackend('wasm')`, before
 * training.
 */
export function registerWasmKernelPack(): void {
	registerWasmConvBackprop();
	registerWasmMaxPoolGrad();
	registerWasmShortMatMul();
	registerWasmLeadingSum();
}
