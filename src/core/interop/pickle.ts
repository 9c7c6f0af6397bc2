/**
 * A safe reader of Python pickles (protocols 2–5, the opcodes `torch.save` and plain
 * containers use). It never runs anything: a pickle names Python callables (`GLOBAL`) and asks
 * for them to be called (`REDUCE`) or to set an object's state (`BUILD`); this reader looks the
 * name up in an allow-list given by the caller and refuses the whole file at the first name
 * outside it. Allowed names are plain functions of this program's own, which build plain
 * values. Opcodes it does not know (the text protocol's `INST`/`OBJ`, extension registries,
 * `NEWOBJ` …) are refused too.
 *
 * Values: `None` → null, bool, int → number (bigint beyond 2^53), float, str, bytes →
 * Uint8Array, list and tuple → array, dict → Map.
 */

/** A value a pickle can hold, as read here. */
export type PickleValue =
	| null
	| boolean
	| number
	| bigint
	| string
	| Uint8Array
	| PickleValue[]
	| Map<PickleKey, PickleValue>
	| PickleGlobal
	| object;

/** A dict key (Python keys of state dicts are str; optimiser states use int). */
export type PickleKey = string | number | bigint | boolean | null;

/** A callable named by the pickle and found in the allow-list. */
export class PickleGlobal {
	constructor(
		readonly module: string,
		readonly name: string,
		readonly allowed: AllowedGlobal
	) {}

	/** `module.name`, as Python prints it. */
	get qualifiedName(): string {
		return `${this.module}.${this.name}`;
	}
}

/** What a pickle may do with an allowed name. */
export interface AllowedGlobal {
	/** `REDUCE`: build a value from the arguments. Without it the name cannot be called. */
	call?: (args: PickleValue[]) => PickleValue;
	/** `BUILD` on a value this name made: apply the state. Without it `BUILD` is refused. */
	build?: (target: PickleValue, state: PickleValue) => PickleValue;
}

/** How {@link unpickle} treats globals and persistent ids. */
export interface UnpickleOptions {
	/** Allowed names by `module.name`. */
	globals: ReadonlyMap<string, AllowedGlobal>;
	/** `BINPERSID`: the value a persistent id stands for (PyTorch: a tensor storage). */
	persistentLoad?: (id: PickleValue) => PickleValue;
}

/** Thrown for a pickle this reader refuses or cannot parse. */
export class UnsafePickleError extends Error {
	override name = 'UnsafePickleError';
}

const mark = Symbol('mark');
type StackItem = PickleValue | typeof mark;

/** Parses `bytes` as one pickle and returns its value. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const stack: StackItem[] = [];
	const memo = new Map<number, PickleValue>();
	/** Which allowed global made each object (for `BUILD`). */
	const madeBy = new WeakMap<object, PickleGlobal>();
	const decoder = new TextDecoder('utf-8', { fatal: true });
	let at = 0;

	const fail = (message: string): never => {
		throw new UnsafePickleError(`${message} (pickle byte ${at}).`);
	};
	const need = (count: number) => {
		if (at + count > bytes.length) fail(`The pickle is truncated: ${count} more bytes needed`);
	};
	const u8 = () => {
		need(1);
		return bytes[at++] as number;
	};
	const u16 = () => {
		need(2);
		const value = view.getUint16(at, true);
		at += 2;
		return value;
	};
	const u32 = () => {
		need(4);
		const value = view.getUint32(at, true);
		at += 4;
		return value;
	};
	const u64 = () => {
		need(8);
		const value = view.getBigUint64(at, true);
		at += 8;
		if (value > BigInt(bytes.length)) fail('A length in the pickle is larger than the file');
		return Number(value);
	};
	const take = (count: number) => {
		need(count);
		const slice = bytes.subarray(at, at + count);
		at += count;
		return slice;
	};
	const text = (count: number) => {
		try {
			return decoder.decode(take(count));
		} catch {
			return fail('The pickle holds a string that is not UTF-8');
		}
	};
	const line = () => {
		const end = bytes.indexOf(0x0a, at);
		if (end < 0) fail('The pickle is truncated inside a name');
		const value = new TextDecoder('latin1').decode(bytes.subarray(at, end));
		at = end + 1;
		return value;
	};
	const pop = (): PickleValue => {
		const value = stack.pop();
		if (value === undefined) return fail('The pickle pops an empty stack');
		if (value === mark) return fail('The pickle pops a mark as a value');
		return value;
	};
	const top = (): PickleValue => {
		const value = stack.at(-1);
		if (value === undefined || value === mark) return fail('The pickle has no value on the stack');
		return value;
	};
	const popMark = (): PickleValue[] => {
		const index = stack.lastIndexOf(mark);
		if (index < 0) fail('The pickle has no mark to pop to');
		const items = stack.splice(index) as PickleValue[];
		items.shift();
		return items;
	};
	const resolve = (module: string, name: string): PickleGlobal => {
		const allowed = options.globals.get(`${module}.${name}`);
		if (!allowed) {
			fail(
				`The file asks for the Python global ${module}.${name}, which a checkpoint of weights does not need; refusing to load it (nothing was run)`
			);
		}
		return new PickleGlobal(module, name, allowed as AllowedGlobal);
	};
	const setItem = (target: PickleValue, key: PickleValue, value: PickleValue) => {
		if (!(target instanceof Map)) return fail('The pickle sets an item on something not a dict');
		if (typeof key === 'object' && key !== null) fail('The pickle uses an unhashable dict key');
		target.set(key as PickleKey, value);
	};
	const appendTo = (target: PickleValue, values: PickleValue[]) => {
		if (!Array.isArray(target)) return fail('The pickle appends to something not a list');
		target.push(...values);
	};
	const signed = (slice: Uint8Array): number | bigint => {
		let value = 0n;
		for (let i = slice.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(slice[i] as number);
		if (slice.length > 0 && ((slice[slice.length - 1] as number) & 0x80) !== 0) {
			value -= 1n << BigInt(8 * slice.length);
		}
		return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
			? Number(value)
			: value;
	};

	for (;;) {
		const opcode = u8();
		switch (opcode) {
			case 0x80: // PROTO
				if (u8() > 5) fail('The pickle protocol is newer than 5');
				break;
			case 0x95: // FRAME
				u64();
				break;
			case 0x2e: // STOP
				if (stack.length !== 1) fail('The pickle ends with a malformed stack');
				return pop();
			case 0x28: // MARK
				stack.push(mark);
				break;
			case 0x4e: // NONE
				stack.push(null);
				break;
			case 0x88: // NEWTRUE
				stack.push(true);
				break;
			case 0x89: // NEWFALSE
				stack.push(false);
				break;
			case 0x4a: // BININT
				need(4);
				stack.push(view.getInt32(at, true));
				at += 4;
				break;
			case 0x4b: // BININT1
				stack.push(u8());
				break;
			case 0x4d: // BININT2
				stack.push(u16());
				break;
			case 0x8a: // LONG1
				stack.push(signed(take(u8())));
				break;
			case 0x8b: // LONG4
				stack.push(signed(take(u32())));
				break;
			case 0x47: // BINFLOAT (big-endian)
				need(8);
				stack.push(view.getFloat64(at, false));
				at += 8;
				break;
			case 0x58: // BINUNICODE
				stack.push(text(u32()));
				break;
			case 0x8c: // SHORT_BINUNICODE
				stack.push(text(u8()));
				break;
			case 0x8d: // BINUNICODE8
				stack.push(text(u64()));
				break;
			case 0x54: // BINSTRING (Python 2 str, read as latin-1)
				stack.push(new TextDecoder('latin1').decode(take(u32())));
				break;
			case 0x55: // SHORT_BINSTRING
				stack.push(new TextDecoder('latin1').decode(take(u8())));
				break;
			case 0x42: // BINBYTES
				stack.push(take(u32()).slice());
				break;
			case 0x43: // SHORT_BINBYTES
				stack.push(take(u8()).slice());
				break;
			case 0x8e: // BINBYTES8
				stack.push(take(u64()).slice());
				break;
			case 0x96: // BYTEARRAY8
				stack.push(take(u64()).slice());
				break;
			case 0x29: // EMPTY_TUPLE
				stack.push([]);
				break;
			case 0x85: // TUPLE1
				stack.push([pop()]);
				break;
			case 0x86: {
				// TUPLE2
				const b = pop();
				stack.push([pop(), b]);
				break;
			}
			case 0x87: {
				// TUPLE3
				const c = pop();
				const b = pop();
				stack.push([pop(), b, c]);
				break;
			}
			case 0x74: // TUPLE
				stack.push(popMark());
				break;
			case 0x5d: // EMPTY_LIST
				stack.push([]);
				break;
			case 0x6c: // LIST
				stack.push(popMark());
				break;
			case 0x7d: // EMPTY_DICT
				stack.push(new Map());
				break;
			case 0x64: {
				// DICT
				const items = popMark();
				const dict = new Map<PickleKey, PickleValue>();
				for (let i = 0; i + 1 < items.length; i += 2)
					setItem(dict, items[i] ?? null, items[i + 1] ?? null);
				stack.push(dict);
				break;
			}
			case 0x73: {
				// SETITEM
				const value = pop();
				const key = pop();
				setItem(top(), key, value);
				break;
			}
			case 0x75: {
				// SETITEMS
				const items = popMark();
				const target = top();
				for (let i = 0; i + 1 < items.length; i += 2)
					setItem(target, items[i] ?? null, items[i + 1] ?? null);
				break;
			}
			case 0x61: {
				// APPEND
				const value = pop();
				appendTo(top(), [value]);
				break;
			}
			case 0x65: {
				// APPENDS
				const items = popMark();
				appendTo(top(), items);
				break;
			}
			case 0x8f: // EMPTY_SET
				stack.push([]);
				break;
			case 0x90: {
				// ADDITEMS
				const items = popMark();
				appendTo(top(), items);
				break;
			}
			case 0x91: // FROZENSET
				stack.push(popMark());
				break;
			case 0x30: // POP
				if (stack.pop() === undefined) fail('The pickle pops an empty stack');
				break;
			case 0x31: // POP_MARK
				popMark();
				break;
			case 0x32: // DUP
				stack.push(top());
				break;
			case 0x71: // BINPUT
				memo.set(u8(), top());
				break;
			case 0x72: // LONG_BINPUT
				memo.set(u32(), top());
				break;
			case 0x94: // MEMOIZE
				memo.set(memo.size, top());
				break;
			case 0x68: // BINGET
			case 0x6a: {
				// LONG_BINGET
				const key = opcode === 0x68 ? u8() : u32();
				if (!memo.has(key)) fail(`The pickle refers to memo entry ${key}, which was never stored`);
				stack.push(memo.get(key) as PickleValue);
				break;
			}
			case 0x63: {
				// GLOBAL "module\nname\n"
				const module = line();
				stack.push(resolve(module, line()));
				break;
			}
			case 0x93: {
				// STACK_GLOBAL
				const name = pop();
				const module = pop();
				if (typeof module !== 'string' || typeof name !== 'string') {
					fail('The pickle names a global with something not a string');
				}
				stack.push(resolve(module as string, name as string));
				break;
			}
			case 0x52: {
				// REDUCE
				const args = pop();
				const callable = pop();
				if (!(callable instanceof PickleGlobal))
					return fail('The pickle calls something not a global');
				if (!callable.allowed.call) {
					fail(
						`The file asks to call ${callable.qualifiedName}, which is not allowed; refusing it`
					);
				}
				if (!Array.isArray(args))
					return fail('The pickle calls a global without an argument tuple');
				const value = (callable.allowed.call as NonNullable<AllowedGlobal['call']>)(args);
				if (typeof value === 'object' && value !== null) madeBy.set(value, callable);
				stack.push(value);
				break;
			}
			case 0x62: {
				// BUILD
				const state = pop();
				const target = pop();
				const maker =
					typeof target === 'object' && target !== null ? madeBy.get(target) : undefined;
				if (!maker?.allowed.build) {
					fail(
						`The file asks to set the state of ${maker ? maker.qualifiedName : 'a value'}, which is not allowed; refusing it`
					);
				}
				stack.push((maker as PickleGlobal).allowed.build?.(target, state) ?? target);
				break;
			}
			case 0x51: {
				// BINPERSID
				const id = pop();
				if (!options.persistentLoad)
					return fail('The pickle refers to external data, which is not allowed here');
				stack.push(options.persistentLoad(id));
				break;
			}
			default:
				fail(
					`The pickle uses opcode 0x${opcode.toString(16).padStart(2, '0')}, which a checkpoint of weights does not need; refusing it`
				);
		}
	}
}
