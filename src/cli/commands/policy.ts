// gatehouse apply / export / migrate — the declarative policy bundle and the schema.

import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApplyReport } from '../../services/bundle.ts';
import { configFrom, localOptions, withServices, type LocalOptions } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, printTable, progress, readStdin, type Io } from '../io.ts';

interface ApplyOptions extends LocalOptions {
  prune?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function printReport(io: Io, report: ApplyReport): void {
  const rows = (['roles', 'groups', 'users', 'applications', 'scopeCatalog'] as const).map((section) => {
    const c = report[section];
    return [section, String(c.created), String(c.updated), String(c.unchanged), String(c.deleted)];
  });
  printTable(io, ['section', 'created', 'updated', 'unchanged', 'deleted'], rows);
  if (report.notApplied.length) {
    printLine(io, `validated, not applied by this version: ${report.notApplied.join(', ')}`);
  }
  if (report.dryRun) printLine(io, 'dry run: nothing was changed');
}

export function policyCommands(program: Command, io: Io): void {
  localOptions(
    program
      .command('apply')
      .description('apply a policy bundle (YAML or JSON; "-" reads stdin); idempotent, all or nothing')
      .argument('<file>', 'bundle file, or - for standard input')
      .option('--prune', 'delete roles, groups, users and applications that the bundle does not mention (and a scope catalog it does not give)')
      .option('--dry-run', 'validate and report what would change, change nothing')
      .option('--json', 'print the report as JSON'),
  ).action(async (file: string, opts: ApplyOptions) => {
    let text: string;
    try {
      text = file === '-' ? await readStdin(io) : readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.invalid);
    }
    const source = file === '-' ? 'stdin' : file;
    const report = await withServices(io, opts, (services) =>
      services.bundles.applyText(text, source, {
        prune: opts.prune,
        dryRun: opts.dryRun,
        onProgress: progress(io, 'hashing passwords'),
      }),
    );
    if (opts.json) printJson(io, report);
    else printReport(io, report);
  });

  localOptions(
    program
      .command('export')
      .description('print the stored policy as a bundle (passwords as argon2id hashes)')
      .option('--format <format>', 'yaml or json', 'yaml')
      .option('--json', 'the same as --format json')
      .option('-o, --output <file>', 'write to a file (mode 0600) instead of stdout'),
  ).action(async (opts: LocalOptions & { format: string; json?: boolean; output?: string }) => {
    if (opts.json) opts.format = 'json';
    if (opts.format !== 'yaml' && opts.format !== 'json') throw new CliError('--format must be yaml or json', EXIT.usage);
    const bundle = await withServices(io, opts, (services) => services.bundles.export());
    const { bundleToYaml } = await import('../../services/bundle.ts');
    const text = opts.format === 'json' ? `${JSON.stringify(bundle, null, 2)}\n` : bundleToYaml(bundle);
    if (opts.output) writeFileSync(opts.output, text, { mode: 0o600 });
    else io.stdout.write(text);
  });

  localOptions(
    program.command('migrate').description('apply pending database migrations').option('--json', 'print the result as JSON'),
  ).action(async (opts: LocalOptions & { json?: boolean }) => {
    const config = configFrom(io, opts);
    const { openStore } = await import('../../store/open.ts');
    const store = await openStore(config.databaseUrl, { pollIntervalMs: 0 });
    try {
      const report = await store.migrate();
      if (opts.json) printJson(io, report);
      else printLine(io, report.applied.length ? `applied migrations ${report.applied.join(', ')}; schema version ${report.current}` : `schema is up to date (version ${report.current})`);
    } finally {
      await store.close();
    }
  });
}
