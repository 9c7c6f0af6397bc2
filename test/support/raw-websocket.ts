/**
 * A WebSocket client made of bare TCP, for hostile-input tests: it writes whatever bytes it is
 * told (a malformed upgrade, an unmasked frame, a reserved opcode, a length the server must
 * refuse) and reads what the server answers, without the validation a real client library does.
 */
import crypto from 'node:crypto';
import net from 'node:net';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const opcodes = {
	continuation: 0,
	text: 1,
	binary: 2,
	close: 8,
	ping: 9,
	pong: 10
} as const;

/** What a frame sent by the test looks like; every field can be made wrong on purpose. */
export interface FrameSpec {
	opcode: number;
	payload?: Uint8Array | string;
	fin?: boolean;
	/** The three reserved bits, as a number 0–7 (RSV1 = 4). */
	rsv?: number;
	/** Clients must mask (RFC 6455 §5.1); false sends the payload in clear. */
	masked?: boolean;
	/** The length written in the header, when it should differ from the payload's. */
	declaredLength?: number;
}

/** Encodes one client → server frame. */
export function encodeFrame(spec: FrameSpec): Buffer {
	const payload =
		typeof spec.payload === 'string'
			? Buffer.from(spec.payload, 'utf8')
			: Buffer.from(spec.payload ?? new Uint8Array());
	const masked = spec.masked ?? true;
	const length = spec.declaredLength ?? payload.length;
	const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
	const maskBit = masked ? 0x80 : 0;
	let extended: Buffer;
	if (length < 126) {
		head.push(maskBit | length);
		extended = Buffer.alloc(0);
	} else if (length < 65536) {
		head.push(maskBit | 126);
		extended = Buffer.alloc(2);
		extended.writeUInt16BE(length);
	} else {
		head.push(maskBit | 127);
		extended = Buffer.alloc(8);
		extended.writeBigUInt64BE(BigInt(length));
	}
	if (!masked) return Buffer.concat([Buffer.from(head), extended, payload]);
	const mask = crypto.randomBytes(4);
	const body = Buffer.allocUnsafe(payload.length);
	for (let i = 0; i < payload.length; i++)
		body[i] = (payload[i] as number) ^ (mask[i & 3] as number);
	return Buffer.concat([Buffer.from(head), extended, mask, body]);
}

/** A frame from the server. */
export interface ServerFrame {
	opcode: number;
	payload: Buffer;
}

/** The HTTP request line and headers of a WebSocket upgrade, with overrides. */
export function upgradeRequest(
	target: string,
	host: string,
	headers: Record<string, string | null> = {}
): string {
	const all: Record<string, string | null> = {
		Host: host,
		Upgrade: 'websocket',
		Connection: 'Upgrade',
		'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
		'Sec-WebSocket-Version': '13',
		...headers
	};
	const lines = Object.entries(all)
		.filter((entry): entry is [string, string] => entry[1] !== null)
		.map(([name, value]) => `${name}: ${value}`);
	return `GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** One TCP connection to the server, reading its HTTP answer and then its frames. */
export class RawConnection {
	private buffer = Buffer.alloc(0);
	private wake: (() => void) | null = null;
	private ended = false;
	/** Resolves when the server (or the test) has closed the connection. */
	readonly closed: Promise<void>;

	private constructor(readonly socket: net.Socket) {
		socket.on('data', (chunk: Buffer) => {
			this.buffer = Buffer.concat([this.buffer, chunk]);
			this.wake?.();
		});
		// A reset from either side is expected here; the test looks at what arrived before it.
		socket.on('error', () => undefined);
		this.closed = new Promise((resolve) =>
			socket.once('close', () => {
				this.ended = true;
				this.wake?.();
				resolve();
			})
		);
	}

	/** Opens a TCP connection to 127.0.0.1:port. */
	static open(port: number): Promise<RawConnection> {
		return new Promise((resolve, reject) => {
			const socket = net.connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
			socket.once('error', reject);
		});
	}

	/** Opens a connection and completes a valid upgrade to the API with the token. */
	static async upgraded(port: number, token: string): Promise<RawConnection> {
		const connection = await RawConnection.open(port);
		connection.write(
			upgradeRequest(`/api?token=${token}`, `127.0.0.1:${port}`, {
				Origin: `http://127.0.0.1:${port}`
			})
		);
		const status = await connection.httpStatus();
		if (status !== 101) throw new Error(`The upgrade was refused with HTTP ${status}.`);
		return connection;
	}

	write(data: string | Uint8Array): void {
		if (!this.socket.destroyed) this.socket.write(data);
	}

	/** Sends a TCP reset (RST) instead of a clean close, as a client that vanishes does. */
	reset(): void {
		this.socket.resetAndDestroy();
	}

	end(): void {
		this.socket.destroy();
	}

	/** The status code of the HTTP response head; null when the connection closed without one. */
	async httpStatus(): Promise<number | null> {
		for (;;) {
			const end = this.buffer.indexOf('\r\n\r\n');
			if (end >= 0) {
				const head = this.buffer.subarray(0, end).toString('latin1');
				this.buffer = this.buffer.subarray(end + 4);
				return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? NaN);
			}
			if (this.ended) return null;
			await this.waitForData();
		}
	}

	/** The next complete frame from the server; null when the connection closed first. */
	async frame(): Promise<ServerFrame | null> {
		for (;;) {
			const frame = this.takeFrame();
			if (frame) return frame;
			if (this.ended) return null;
			await this.waitForData();
		}
	}

	/** Reads frames until a close frame; returns its status code (null: closed without one). */
	async closeCode(): Promise<number | null> {
		for (;;) {
			const frame = await this.frame();
			if (!frame) return null;
			if (frame.opcode === opcodes.close) {
				return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
			}
		}
	}

	/** Reads frames until the response to request `id`; null when the connection closed first. */
	async response(
		id: number
	): Promise<{ ok: boolean; error?: { code: string; message: string } } | null> {
		for (;;) {
			const frame = await this.frame();
			if (!frame) return null;
			if (frame.opcode !== opcodes.text) continue;
			const message = JSON.parse(frame.payload.toString('utf8')) as {
				kind: string;
				id?: number;
				result?: { ok: boolean; error?: { code: string; message: string } };
			};
			if (message.kind === 'response' && message.id === id) return message.result ?? null;
		}
	}

	private takeFrame(): ServerFrame | null {
		const data = this.buffer;
		if (data.length < 2) return null;
		const opcode = (data[0] as number) & 0x0f;
		let length = (data[1] as number) & 0x7f;
		let offset = 2;
		if (length === 126) {
			if (data.length < 4) return null;
			length = data.readUInt16BE(2);
			offset = 4;
		} else if (length === 127) {
			if (data.length < 10) return null;
			length = Number(data.readBigUInt64BE(2));
			offset = 10;
		}
		if (data.length < offset + length) return null;
		this.buffer = data.subarray(offset + length);
		return { opcode, payload: Buffer.from(data.subarray(offset, offset + length)) };
	}

	private waitForData(): Promise<void> {
		return new Promise((resolve) => {
			this.wake = () => {
				this.wake = null;
				resolve();
			};
		});
	}
}
