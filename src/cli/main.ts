#!/usr/bin/env node
// The `dsn` command line: parses arguments and hands them to one command
// module each (loaded only when that command runs), reports a failure as one
// line on stderr and sets the exit code: 2 for usage or configuration, 1
// for a failure at run time.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { DemoOptions } from './demo.js';
import { EXIT_USAGE, oneLine, reportError } from './errors.js';
import {
  checkKey,
  collectAssignment,
  collectEndpoint,
  collectList,
  collectPair,
  parseAssignmentLines,
  parseCount,
  parseNonEmpty,
  parsePort,
  parseSwitch,
} from './options.js';
import type { RemoteOptions, WriteOptions } from './remote.js';
import type { StartOptions } from './start.js';
import type { WatchOptions } from './watch.js';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const program = new Command('dsn')
  .description('Run and inspect Distributed State Network nodes.')
  .version(version, '-V, --version', 'print the version')
  .option('--verbose', 'print stack traces with errors')
  .helpOption('-h, --help', 'show help')
  .helpCommand('help [command]', 'show help for a command')
  .configureHelp({ showGlobalOptions: true })
  .showSuggestionAfterError(true)
  .exitOverride();

const keyOption = () =>
  new Option('--key <hex>', 'network key, 32 hex characters (see dsn keygen)').env('DSN_KEY');

program
  .command('keygen')
  .description('print a new random network key (32 hex characters)')
  .action(async () => (await import('./keygen.js')).keygen());

/**
 * A `dsn start` option that may also come from the environment variable
 * `env` (commander lists it in --help). Flags win over the environment, and
 * the environment over the config file, which buildNodeConfig reads last.
 */
function startOption<T>(
  flags: string,
  description: string,
  env: string,
  parse?: (value: string, previous: T) => T,
): Option {
  const option = new Option(flags, description).env(env);
  return parse ? option.argParser(parse) : option;
}

program
  .command('start')
  .description('run a node in the foreground until Ctrl-C or SIGTERM')
  .addOption(
    startOption(
      '--config <file>',
      'JSON file with the Python config keys (node_id, port, bootstrap_nodes, …)',
      'DSN_CONFIG',
    ),
  )
  .addOption(startOption('--id <id>', 'node ID', 'DSN_ID', parseNonEmpty))
  .addOption(
    startOption(
      '-p, --port <port>',
      'port to listen on, 0 for any free one (default: 8000)',
      'DSN_PORT',
      parsePort,
    ),
  )
  .addOption(keyOption())
  .addOption(
    startOption(
      '-b, --bootstrap <host:port>',
      'node to join through (repeatable, or comma-separated)',
      'DSN_BOOTSTRAP',
      collectEndpoint,
    ),
  )
  .addOption(
    startOption(
      '--set <key=value>',
      'set a key in this node’s state once up (repeatable)',
      'DSN_SET',
      collectAssignment,
    ),
  )
  .addOption(
    startOption(
      '--credentials <dir>',
      'where the node keys are kept (default: ./credentials)',
      'DSN_CREDENTIAL_DIR',
      parseNonEmpty,
    ),
  )
  .addOption(
    startOption(
      '--network-ip <ip>',
      'address other nodes reach this one at (default: learned)',
      'DSN_NETWORK_IP',
      parseNonEmpty,
    ),
  )
  .addOption(
    startOption(
      '--whitelist <ids>',
      'only talk to these node IDs (comma-separated, repeatable)',
      'DSN_WHITELIST',
      collectList,
    ),
  )
  .addOption(
    startOption(
      '--host <host>',
      'interface to listen on (default: 0.0.0.0)',
      'DSN_HOST',
      parseNonEmpty,
    ),
  )
  .addOption(
    startOption(
      '--dashboard <port>',
      'also serve the live dashboard on this port',
      'DSN_DASHBOARD',
      parsePort,
    ),
  )
  .addOption(
    startOption(
      '--dashboard-host <host>',
      'interface for the dashboard (default: 127.0.0.1)',
      'DSN_DASHBOARD_HOST',
      parseNonEmpty,
    ),
  )
  .addOption(
    startOption(
      '--api <port>',
      'serve the local control API (JSON, events, /metrics) on this port of 127.0.0.1',
      'DSN_API',
      parsePort,
    ),
  )
  .addOption(
    startOption(
      '--api-host <host>',
      'loopback address of the control API (default: 127.0.0.1; ::1 or localhost)',
      'DSN_API_HOST',
      parseNonEmpty,
    ),
  )
  .addOption(
    startOption(
      '--require-join',
      'exit (code 1, saying which bootstrap refused and why) unless a bootstrap node admits this node',
      'DSN_REQUIRE_JOIN',
    ),
  )
  .addOption(startOption('--json', 'log JSON lines in pino’s format instead of text', 'DSN_JSON'))
  .addHelpText(
    'after',
    `
Every flag can also be set by the environment variable shown beside it
(for containers): flags win over the environment, the environment over the
config file. DSN_BOOTSTRAP takes host:port endpoints separated by commas,
DSN_SET one key=value per line, DSN_JSON 1 or 0.

Events (joins, leaves, updates, alerts) are logged on stderr; one line on
stdout says when the node is up.

With --api the node serves a control API on loopback for dsn members, get,
set, delete and monitor (and Prometheus at /metrics); writes need the token
it writes to <credentials>/<id>/api-token (mode 0600, new at each start).

Examples:
  $ dsn start --id alpha --key $(dsn keygen) --set status=online
  $ dsn start --id beta -p 8001 -b 10.0.0.5:8000 --dashboard 8080
  $ dsn start --config node.json --json
  $ dsn start --id delta --api 9000   # then: dsn members --api 9000
  $ DSN_ID=gamma DSN_BOOTSTRAP=10.0.0.5:8000 DSN_KEY=$KEY dsn start`,
  )
  .action(async (opts: StartOptions, command: Command) => {
    const { start } = await import('./start.js');
    const names = envNames(command);
    await start({
      ...opts,
      key: checkKey(opts.key, names.key ?? '--key'),
      // Commander hands these variables to the flag's parser whole; their
      // own syntax (lines, a switch) is read here.
      ...(names.set && { set: parseAssignmentLines(process.env[names.set] ?? '', names.set) }),
      ...(names.json && { json: parseSwitch(process.env[names.json] ?? '', names.json) }),
      ...(names.requireJoin && {
        requireJoin: parseSwitch(process.env[names.requireJoin] ?? '', names.requireJoin),
      }),
      names,
    });
  });

program
  .command('watch')
  .description('join as an observer and show every node’s state, live')
  .requiredOption(
    '-b, --bootstrap <host:port>',
    'node to join through (repeatable)',
    collectEndpoint,
  )
  .addOption(keyOption())
  .option('--id <id>', 'observer node ID (default: watch-<random>)', parseNonEmpty)
  .option('-p, --port <port>', 'port to listen on (default: any free one)', parsePort, 0)
  .option('--host <host>', 'interface to listen on (default: 0.0.0.0)', parseNonEmpty)
  .option(
    '--network-ip <ip>',
    'address other nodes reach this one at (default: learned)',
    parseNonEmpty,
  )
  .option('--once', 'print the table once after joining, then exit')
  .option('--json', 'print JSON snapshots, one per line, instead of a table')
  .addHelpText(
    'after',
    `
On a terminal the table is redrawn in place; piped, a table is printed per
change. Other nodes must be able to reach the observer: see --network-ip.

Examples:
  $ dsn watch -b 127.0.0.1:8000 --key $DSN_KEY
  $ dsn watch -b 10.0.0.5:8000 --once --json | jq '.nodes[].nodeId'`,
  )
  .action(async (opts: WatchOptions, command: Command) => {
    const { watch } = await import('./watch.js');
    await watch({ ...opts, key: checkKey(opts.key, envNames(command).key ?? '--key') });
  });

// The one-shot commands: they talk to a running node's control API
// (dsn start --api PORT) on this machine and never join the network.
const apiOption = () =>
  new Option('--api <port>', 'port of the node’s control API (dsn start --api PORT)')
    .env('DSN_API')
    .argParser(parsePort);
const apiHostOption = () =>
  new Option('--api-host <host>', 'its loopback address (default: 127.0.0.1)')
    .env('DSN_API_HOST')
    .argParser(parseNonEmpty);
const remoteCommand = (name: string, description: string, json: string) =>
  program
    .command(name)
    .description(description)
    .addOption(apiOption())
    .addOption(apiHostOption())
    .option('--json', json);
/** Writes need the node's token: given, or read from its credential folder. */
const writeOptions = (command: Command) =>
  command
    .addOption(new Option('--token <token>', 'the control API’s write token').env('DSN_TOKEN'))
    .addOption(
      new Option(
        '--credentials <dir>',
        'the node’s credential folder, to read <dir>/<id>/api-token (default: ./credentials)',
      )
        .env('DSN_CREDENTIAL_DIR')
        .argParser(parseNonEmpty),
    )
    .addOption(
      new Option('--id <id>', 'the node’s ID, for its token file (default: asked of the node)')
        .env('DSN_ID')
        .argParser(parseNonEmpty),
    )
    .option('--wait', 'return once every peer has the new state')
    .addHelpText(
      'after',
      `
The token is new at every start of the node. Without --token it is read
from <credentials>/<id>/api-token, the file dsn start --api wrote.
Exit codes: 0 done, 1 the node refused (no or wrong token, unknown key) or
no node answers, 2 bad usage.`,
    );

remoteCommand(
  'members',
  'list the nodes a running node knows (through its control API)',
  'print a JSON array of {nodeId, address, port, liveness, lastUpdate, self}',
)
  .addHelpText(
    'after',
    `
Examples:
  $ dsn members --api 9000
  $ DSN_API=9000 dsn members --json | jq -r '.[] | select(.liveness == "suspect") | .nodeId'`,
  )
  .action(async (opts: RemoteOptions, command: Command) => {
    const { members } = await import('./members.js');
    await members({ ...opts, names: envNames(command) });
  });

remoteCommand(
  'get',
  'print a node’s state, or one key’s value, as a running node holds it',
  'print {"nodeId": …, "state": {…}} (keys in order), or {"nodeId", "key", "value"}',
)
  .argument('<node>', 'node ID (any node the running node knows, itself included)')
  .argument('[key]', 'one key: print its value alone')
  .addHelpText(
    'after',
    `
Exit code 1 for a node or key the running node does not know.

Examples:
  $ dsn get worker-1 --api 9000
  $ dsn get worker-1 status --api 9000
  $ dsn get worker-1 --api 9000 --json | jq .state`,
  )
  .action(async (node: string, key: string | undefined, opts: RemoteOptions, command: Command) => {
    const { get } = await import('./get.js');
    await get(node, key, { ...opts, names: envNames(command) });
  });

writeOptions(
  remoteCommand(
    'set',
    'set keys of a running node’s own state, all in one go',
    'print {"nodeId": …, "changed": […], "state": {…}}',
  ).argument('<key=value...>', 'keys to set (the value may be empty or hold "=")', collectPair),
)
  .addHelpText(
    'after',
    `
Examples:
  $ dsn set status=busy queue=3 --api 9000
  $ dsn set model=llama-3-8b --api 9000 --credentials /data/credentials --id worker-1`,
  )
  .action(async (pairs: [string, string][], opts: WriteOptions, command: Command) => {
    const { set } = await import('./set.js');
    await set(pairs, { ...opts, names: envNames(command) });
  });

writeOptions(
  remoteCommand(
    'delete',
    'remove a key from a running node’s own state',
    'print {"nodeId": …, "deleted": KEY, "state": {…}}',
  ).argument('<key>', 'the key to remove (exit code 1 if the node has no such key)'),
).action(async (key: string, opts: WriteOptions, command: Command) => {
  const { del } = await import('./delete.js');
  await del(key, { ...opts, names: envNames(command) });
});

remoteCommand(
  'monitor',
  'print a running node’s events (joins, updates, suspects, leaves, alerts) until Ctrl-C',
  'print each event as one JSON object per line',
)
  .addHelpText(
    'after',
    `
Events: peer, update (with the keys changed and removed), suspect, alive,
disconnect, leave, alert. Exits 0 on Ctrl-C, 1 if the node stops.

Examples:
  $ dsn monitor --api 9000
  $ dsn monitor --api 9000 --json | jq -c 'select(.event == "update")'`,
  )
  .action(async (opts: RemoteOptions, command: Command) => {
    const { monitor } = await import('./monitor.js');
    await monitor({ ...opts, names: envNames(command) });
  });

program
  .command('demo')
  .description('run a demo network (a monitor and five sensors) with its dashboard')
  .option('-p, --port <port>', 'dashboard port (default: 8080, or a free one if taken)', parsePort)
  .option('--sensors <n>', 'number of sensors', parseCount(1, 50), 5)
  .action(async (opts: DemoOptions) => (await import('./demo.js')).demo(opts));

/** The options of `command` set from the environment, each with its variable (for messages). */
function envNames(command: Command): Record<string, string> {
  const names: Record<string, string> = {};
  for (const option of command.options) {
    const key = option.attributeName();
    if (option.envVar && command.getOptionValueSource(key) === 'env') names[key] = option.envVar;
  }
  return names;
}

// Commander's own errors ("unknown option '--prot'", with a suggestion on a
// second line) become the same one line as ours.
for (const command of [program, ...program.commands]) {
  const name = command === program ? 'dsn' : `dsn ${command.name()}`;
  command.configureOutput({
    outputError: (message, write) =>
      write(`${name}: ${oneLine(message.replace(/^error: /, ''))}\n`),
  });
}

// Errors name the command they come from, as commander's own do.
let running = 'dsn';
program.hook('preAction', (_program, action) => {
  running = `dsn ${action.name()}`;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; commander has printed the message already.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.exitCode = reportError(err, running, program.opts().verbose === true);
  }
}
