// Import boundaries between the layers (DESIGN.md): the core is pure, the client stands alone,
// faces never reach the store, lower layers never import higher ones. Every static import,
// re-export (`export … from`) and literal dynamic `import()` in src/** is checked, type-only
// imports included. A failure lists each offending import with its file and line.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Import {
  /** Importing file, repository-relative with forward slashes (src/http/app.ts). */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** Repository-relative path a relative specifier points to; null for modules. */
  readonly target: string | null;
  readonly kind: 'relative' | 'builtin' | 'package';
}

const BUILTINS = new Set(builtinModules);

/** The imports of one source file (comments and strings are not mistaken for imports). */
function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map(({ fileName: specifier, pos }) => {
    const line = text.slice(0, pos).split('\n').length;
    if (specifier.startsWith('.')) {
      return { file, line, specifier, target: posix.normalize(posix.join(posix.dirname(file), specifier)), kind: 'relative' };
    }
    const builtin = specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0] ?? '');
    return { file, line, specifier, target: null, kind: builtin ? 'builtin' : 'package' };
  });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(posix.join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const within = (path: string | null, folder: string) => path !== null && (path === folder || path.startsWith(`${folder}/`));

interface Rule {
  readonly name: string;
  readonly folder: string;
  /** Why `imp` is not allowed, or null when it is. */
  readonly check: (imp: Import) => string | null;
}

const forbidFolders =
  (...folders: string[]) =>
  (imp: Import): string | null => {
    const hit = folders.find((f) => within(imp.target, f));
    return hit ? `reaches into ${hit}` : null;
  };

const RULES: readonly Rule[] = [
  {
    name: 'src/core imports only src/core files: no node: or npm modules (the core is pure)',
    folder: 'src/core',
    check: (imp) =>
      imp.kind !== 'relative'
        ? `imports the ${imp.kind} module "${imp.specifier}"`
        : within(imp.target, 'src/core')
          ? null
          : `reaches outside src/core (${imp.target})`,
  },
  {
    name: 'src/client imports nothing outside src/client (it ships on its own)',
    folder: 'src/client',
    check: (imp) =>
      imp.kind === 'relative' && !within(imp.target, 'src/client') ? `reaches outside src/client (${imp.target})` : null,
  },
  {
    name: 'src/http never imports src/store (faces talk to services)',
    folder: 'src/http',
    check: forbidFolders('src/store'),
  },
  {
    name: 'src/store imports nothing from services, http or cli',
    folder: 'src/store',
    check: forbidFolders('src/services', 'src/http', 'src/cli'),
  },
  {
    name: 'src/auth imports nothing from services, http, cli or store',
    folder: 'src/auth',
    check: forbidFolders('src/services', 'src/http', 'src/cli', 'src/store'),
  },
  {
    name: 'src/services imports nothing from http or cli',
    folder: 'src/services',
    check: forbidFolders('src/http', 'src/cli'),
  },
];

/** Every broken rule, one line per offending import. */
function violations(imports: readonly Import[], rules: readonly Rule[] = RULES): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const imp of imports) {
      if (!within(imp.file, rule.folder)) continue;
      const why = rule.check(imp);
      if (why) out.push(`${imp.file}:${imp.line}: import "${imp.specifier}" ${why} — rule: ${rule.name}`);
    }
  }
  return out;
}

const FILES = sourceFiles('src');
const IMPORTS = FILES.flatMap((file) => importsOf(file, readFileSync(posix.join(ROOT, file), 'utf8')));

describe('architecture', () => {
  test('the scan sees the source tree and its imports', () => {
    for (const folder of ['src/core', 'src/client', 'src/http', 'src/store', 'src/auth', 'src/services', 'src/cli']) {
      assert.ok(FILES.some((f) => within(f, folder)), `no files found in ${folder}`);
    }
    for (const folder of ['src/http', 'src/store', 'src/auth', 'src/services', 'src/core']) {
      assert.ok(
        IMPORTS.some((i) => within(i.file, folder)),
        `no imports found in ${folder}: the scan is broken`,
      );
    }
    // known edges exist, so a silently empty scan cannot pass
    assert.ok(IMPORTS.some((i) => within(i.file, 'src/services') && within(i.target, 'src/store')));
    assert.ok(IMPORTS.some((i) => within(i.file, 'src/http') && within(i.target, 'src/services')));
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      const broken = violations(IMPORTS, [rule]);
      assert.equal(broken.length, 0, `\n${broken.join('\n')}\n`);
    });
  }
});

describe('the import checker itself', () => {
  const file = (path: string, text: string) => importsOf(path, text);

  test('finds static, type-only, re-exported, side-effect and dynamic imports, with lines', () => {
    const found = file(
      'src/http/faces/x/route.ts',
      [
        "import { a } from '../../../store/store.ts';",
        "import type { B } from '../../../store/store.ts';",
        "export * from '../../../store/sqlite/sqlite-store.ts';",
        "import '../../../store/open.ts';",
        "const m = await import('../../../store/migrations/sqlite.ts');",
        "// import { c } from '../../../store/in-a-comment.ts';",
        "const s = \"import { d } from '../../../store/in-a-string.ts'\";",
      ].join('\n'),
    );
    assert.deepEqual(
      found.map((i) => [i.line, i.target]),
      [
        [1, 'src/store/store.ts'],
        [2, 'src/store/store.ts'],
        [3, 'src/store/sqlite/sqlite-store.ts'],
        [4, 'src/store/open.ts'],
        [5, 'src/store/migrations/sqlite.ts'],
      ],
    );
    const broken = violations(found);
    assert.equal(broken.length, 5);
    assert.match(broken[0] as string, /^src\/http\/faces\/x\/route\.ts:1: import "\.\.\/\.\.\/\.\.\/store\/store\.ts" reaches into src\/store/);
  });

  test('flags each kind of breach', () => {
    const cases: [string, string, boolean][] = [
      ['src/core/policy.ts', "import { readFileSync } from 'node:fs';", true],
      ['src/core/policy.ts', "import { EventEmitter } from 'events';", true],
      ['src/core/policy.ts', "import { parse } from 'yaml';", true],
      ['src/core/policy.ts', "import type { Store } from '../store/store.ts';", true],
      ['src/core/policy.ts', "import { BUILTIN_ROLES } from './builtin.ts';", false],
      ['src/client/index.ts', "import { ValidationError } from '../core/errors.ts';", true],
      ['src/client/index.ts', "import { x } from './util/x.ts';", false],
      ['src/store/open.ts', "import { UserService } from '../services/users.ts';", true],
      ['src/store/open.ts', "import { ValidationError } from '../core/errors.ts';", false],
      ['src/auth/jwt.ts', "import type { Store } from '../store/store.ts';", true],
      ['src/auth/jwt.ts', "import { run } from '../cli/main.ts';", true],
      ['src/auth/jwt.ts', "import { SignJWT } from 'jose';", false],
      ['src/services/users.ts', "const app = await import('../http/app.ts');", true],
      ['src/services/users.ts', "import type { Store } from '../store/store.ts';", false],
      ['src/http/app.ts', "import { openStore } from '../store/open.ts';", true],
      ['src/http/app.ts', "import type { Services } from '../services/index.ts';", false],
      ['src/cli/main.ts', "import { openStore } from '../store/open.ts';", false],
    ];
    for (const [path, text, bad] of cases) {
      assert.equal(violations(file(path, text)).length, bad ? 1 : 0, `${path}: ${text}`);
    }
  });
});
