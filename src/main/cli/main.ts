import { parseArgs } from 'node:util';
import { appInfo } from '../app-info';
import type { CliCommand, CliEnvironment } from './command';
import { joinNegativeValues } from './flags';
import { datasetCommand } from './commands/dataset';
import { doctorCommand } from './commands/doctor';
import { evalCommand } from './commands/evaluate';
import { explainCommand } from './commands/explain';
import { generateCommand } from './commands/generate';
import { exportCommand, importCommand } from './commands/interop';
import { quickstartCommand } from './commands/quickstart';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';

/** Every sub-command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [
	doctorCommand,
	generateCommand,
	datasetCommand,
	trainCommand,
	evalCommand,
	explainCommand,
	runsCommand,
	importCommand,
	exportCommand,
	quickstartCommand,
	serveCommand
];

function mainHelp(): string {
	const width = Math.max(...commands.map((command) => command.name.length)) + 2;
	return [
		`${appInfo.name} ${appInfo.version}: learning to see by looking at noise.`,
		'',
		'Usage: noiselab <command> [options]',
		'',
		'Commands:',
		...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
		'',
		'Options:',
		'  --help, -h     show help (also: noiselab <command> --help)',
		'  --version, -v  print the version',
		'',
		'The data folder is $NOISELAB_HOME when set, else the platform data folder.'
	].join('\n');
}

function commandHelp(command: CliCommand): string {
	const flags = Object.entries(command.flagHelp).map(
		([flag, help]) => `  --${flag.padEnd(12)} ${help}`
	);
	return [
		`Usage: noiselab ${command.name} ${command.usage}`,
		'',
		command.summary,
		'',
		'Options:',
		...flags,
		'  --help         show this help'
	].join('\n');
}

/** Runs the CLI and returns the exit code. */
export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
	const [first, ...rest] = argv;
	if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
		const named = commands.find((command) => command.name === rest[0]);
		env.stdout(named ? commandHelp(named) : mainHelp());
		return 0;
	}
	if (first === '--version' || first === '-v') {
		env.stdout(appInfo.version);
		return 0;
	}
	const command = commands.find((candidate) => candidate.name === first);
	if (!command) {
		env.stderr(
			`Unknown command "${first}". Commands: ${commands.map((c) => c.name).join(', ')}. Run noiselab --help.`
		);
		return 2;
	}
	let parsed;
	try {
		parsed = parseArgs({
			args: joinNegativeValues(rest, command.options),
			options: { ...command.options, help: { type: 'boolean', short: 'h', default: false } },
			allowPositionals: command.positionals === true,
			strict: true
		});
	} catch (error) {
		env.stderr(`${(error as Error).message}\n\n${commandHelp(command)}`);
		return 2;
	}
	if (parsed.values.help) {
		env.stdout(commandHelp(command));
		return 0;
	}
	return command.run(parsed, env);
}
