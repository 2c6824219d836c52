// gatehouse serve — run the server.

import type { Command } from 'commander';
import { closeOnSignals, startServer } from '../../server.ts';
import { configFrom, localOptions, type LocalOptions } from '../context.ts';
import type { Io } from '../io.ts';

interface ServeOptions extends LocalOptions {
  host?: string;
  port?: string;
  bundle?: string;
  logLevel?: string;
}

export function serveCommand(program: Command, io: Io): void {
  localOptions(
    program
      .command('serve')
      .description('run the Gatehouse server')
      .option('--host <address>', 'address to listen on (default 127.0.0.1); also GATEHOUSE_HOST')
      .option('-p, --port <port>', 'port (default 8000); also GATEHOUSE_PORT')
      .option('-b, --bundle <file>', 'apply this policy bundle at start-up; also GATEHOUSE_BUNDLE')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent; also GATEHOUSE_LOG_LEVEL'),
  ).action(async (opts: ServeOptions) => {
    const config = configFrom(io, opts, { host: opts.host, port: opts.port, bundle: opts.bundle, logLevel: opts.logLevel });
    const server = await startServer(config);
    closeOnSignals(server);
  });
}
