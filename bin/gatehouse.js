#!/usr/bin/env node
// Entry point of the `gatehouse` command. Gatehouse runs on Node.js 24 or newer (TypeScript is
// executed directly); `npx gatehouse` and the npm scripts use the Node 24 installed with it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `gatehouse: needs Node.js >= 24, this is ${process.version}. Run it as "npx gatehouse ..." inside the project ` +
      '(npm installs Node 24 with it) or put Node 24 first on your PATH.\n',
  );
  process.exit(2);
}
const { run } = await import('../src/cli/main.ts');
const code = await run(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
