// Roles and scopes built into Gatehouse: the queue server's 25 scopes and its default roles.
// A role of the same name in the store overrides the built-in one.

const READ = [
  'read:status',
  'read:queue',
  'read:history',
  'read:resources',
  'read:config',
  'read:monitor',
  'read:console',
  'read:lock',
  'read:testing',
] as const;

export const QUEUE_SERVER_SCOPES: readonly string[] = [
  ...READ,
  'write:queue:edit',
  'write:queue:control',
  'write:manager:control',
  'write:plan:control',
  'write:execute',
  'write:history:edit',
  'write:permissions',
  'write:scripts',
  'write:config',
  'write:lock',
  'write:manager:stop',
  'write:testing',
  'user:apikeys',
  'admin:apikeys',
  'admin:read:principals',
  'admin:metrics',
];

const USER_WRITES = [
  'write:queue:edit',
  'write:queue:control',
  'write:manager:control',
  'write:plan:control',
  'write:execute',
  'write:history:edit',
];

/** The metascope of API keys: "all of the owner's current scopes". */
export const INHERIT = 'inherit';

export const BUILTIN_ROLES: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['admin', ['read:status', 'user:apikeys', 'admin:apikeys', 'admin:read:principals', 'admin:metrics']],
  [
    'expert',
    [...READ, ...USER_WRITES, 'write:permissions', 'write:scripts', 'write:config', 'write:lock', 'user:apikeys'],
  ],
  ['advanced', [...READ, ...USER_WRITES, 'user:apikeys']],
  ['user', [...READ, ...USER_WRITES, 'user:apikeys']],
  ['observer', [...READ, 'user:apikeys']],
  [
    'unauthenticated_single_user',
    QUEUE_SERVER_SCOPES.filter((s) => !s.startsWith('admin:') && s !== 'user:apikeys'),
  ],
  ['unauthenticated_public', []],
]);

/** Role whose scopes every caller without credentials receives (empty by default). */
export const PUBLIC_ROLE = 'unauthenticated_public';
