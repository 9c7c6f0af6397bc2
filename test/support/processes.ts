import fs from 'node:fs';

/** A process as Linux's /proc/<pid>/stat describes it: the fields the tests need. */
interface ProcessEntry {
	pid: number;
	/** R, S, D, Z (zombie: exited, not yet reaped), … */
	state: string;
	ppid: number;
	pgrp: number;
}

/** Every process /proc lists, or null where there is no /proc (macOS, Windows). */
export function processTable(): ProcessEntry[] | null {
	if (!fs.existsSync('/proc/self/stat')) return null;
	const entries: ProcessEntry[] = [];
	for (const name of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		let stat: string;
		try {
			stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
		} catch {
			continue; // It ended while the table was read.
		}
		// Fields after the parenthesised command name: state, ppid, pgrp, …
		const [state = '', ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		entries.push({ pid: Number(name), state, ppid: Number(ppid), pgrp: Number(pgrp) });
	}
	return entries;
}

/**
 * Waits until no live child of this process is left (a zombie has ended: it only awaits its
 * reaping), at most `timeoutMs`; returns the PIDs still alive then. Where there is no /proc,
 * returns [] without checking.
 */
export async function childrenLeft(timeoutMs = 15_000): Promise<number[]> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const alive = (processTable() ?? [])
			.filter((entry) => entry.ppid === process.pid && entry.state !== 'Z')
			.map((entry) => entry.pid);
		if (alive.length === 0 || performance.now() > deadline) return alive;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
