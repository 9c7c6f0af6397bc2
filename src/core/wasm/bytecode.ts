/**
 * The bytes of small WebAssembly modules, assembled at run time without a toolchain: LEB128
 * numbers, sections and the module frame. Platform-free: `WebAssembly` is a standard global in
 * Node, Electron and browsers; the few members used are declared here, since neither src/core
 * nor src/main compiles with the DOM library that declares them.
 */

/** The part of the WebAssembly JavaScript API that NoiseLab's run-time modules use. */
export interface WebAssemblyApi {
	validate(bytes: Uint8Array): boolean;
	Module: new (bytes: Uint8Array) => object;
	Instance: new (module: object, imports: object) => { exports: object };
	Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

/** The engine's `WebAssembly`, or undefined where there is none. */
export const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
	readonly buffer: ArrayBuffer;
}

/** Value types. */
export const enum ValueType {
	I32 = 0x7f,
	F64 = 0x7c,
	V128 = 0x7b
}

/** An unsigned LEB128 number. */
export function unsigned(value: number): number[] {
	const bytes: number[] = [];
	let rest = value >>> 0;
	do {
		let byte = rest & 0x7f;
		rest >>>= 7;
		if (rest !== 0) byte |= 0x80;
		bytes.push(byte);
	} while (rest !== 0);
	return bytes;
}

/** A signed LEB128 number. */
export function signed(value: number): number[] {
	const bytes: number[] = [];
	let rest = value | 0;
	for (;;) {
		const byte = rest & 0x7f;
		rest >>= 7;
		if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
			bytes.push(byte);
			return bytes;
		}
		bytes.push(byte | 0x80);
	}
}

/** A section: its id, then its content's length and the content. */
export function section(id: number, content: number[]): number[] {
	return [id, ...unsigned(content.length), ...content];
}

/** A name: its UTF-8 length, then its bytes. */
export function name(text: string): number[] {
	const bytes = [...new TextEncoder().encode(text)];
	return [...unsigned(bytes.length), ...bytes];
}

/** One exported function of a module. */
export interface ModuleFunction {
	name: string;
	params: readonly ValueType[];
	/** Local variables after the params, in runs of one type. */
	locals: readonly { count: number; type: ValueType }[];
	/** The body's instructions, without the final `end`. */
	code: number[];
}

/** A module exporting `functions` (no results) that imports its memory as `env.memory`. */
export function moduleBytes(functions: readonly ModuleFunction[]): Uint8Array {
	const types = functions.flatMap((fn) => [0x60, ...unsigned(fn.params.length), ...fn.params, 0]);
	const codes = functions.flatMap(({ locals, code }) => {
		const content = [
			...unsigned(locals.length),
			...locals.flatMap(({ count, type }) => [...unsigned(count), type]),
			...code,
			0x0b
		];
		return [...unsigned(content.length), ...content];
	});
	return new Uint8Array([
		...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
		...section(1, [...unsigned(functions.length), ...types]),
		...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
		...section(3, [...unsigned(functions.length), ...functions.map((_, i) => i)]),
		...section(7, [
			...unsigned(functions.length),
			...functions.flatMap((fn, i) => [...name(fn.name), 0x00, i])
		]),
		...section(10, [...unsigned(functions.length), ...codes])
	]);
}
