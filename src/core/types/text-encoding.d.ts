/**
 * TextEncoder and TextDecoder exist in every runtime NoiseLab targets (Node, Electron, browsers)
 * but are not part of the ECMAScript library, so core declares the little it uses.
 */
declare class TextEncoder {
	encode(input?: string): Uint8Array;
}

declare class TextDecoder {
	constructor(label?: string, options?: { fatal?: boolean });
	decode(input?: ArrayBufferView | ArrayBuffer): string;
}
