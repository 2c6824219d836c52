// The policy bundle's shape (JSON Schema via TypeBox). Unknown keys are errors everywhere.

import { Type, type Static } from 'typebox';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:@-]*$' });
const ScopeName = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\s]+$' });
const Username = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f\\s][^\\x00-\\x1f\\x7f]*$' });

export const RoleSchema = Type.Object(
  {
    name: Name,
    scopes: Type.Array(ScopeName, { maxItems: 10000 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const GroupSchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    roles: Type.Optional(Type.Array(Name)),
    entityGroups: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Union([Type.Literal('READ'), Type.Literal('WRITE')]))),
    allEntitiesRead: Type.Optional(Type.Boolean()),
    allEntitiesWrite: Type.Optional(Type.Boolean()),
    allPortals: Type.Optional(Type.Boolean()),
    portals: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }))),
  },
  { additionalProperties: false },
);

export const UserSchema = Type.Object(
  {
    username: Username,
    type: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')])),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' })),
    roles: Type.Optional(Type.Array(Name)),
    groups: Type.Optional(Type.Array(Name)),
    ipFilter: Type.Optional(Type.String({ maxLength: 4096 })),
    admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Longest token or grant lifetime an application may set: ten years, in seconds. */
export const MAX_TTL = 10 * 365 * 86400;

export const ApplicationSchema = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\x00-\\x20\\x7f]+$' }),
    scopes: Type.String({ maxLength: 4096 }),
    name: Type.Optional(Type.String({ maxLength: 256, pattern: '^[^\\x00-\\x1f\\x7f]*$' })),
    accessTokenTtl: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL })),
    grantTtl: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL })),
    allowRefresh: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const CatalogEntrySchema = Type.Object(
  {
    scope: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
    restrictions: Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' })),
  },
  { additionalProperties: false },
);

export const PlatformAuthSchema = Type.Object(
  {
    user_id: Type.String({ minLength: 1, maxLength: 256 }),
    domain: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    address: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    mechanism: Type.Optional(Type.String()),
    credentials: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    capabilities: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Record(Type.String(), Type.Unknown())])),
    roles: Type.Optional(Type.Array(Type.String())),
    groups: Type.Optional(Type.Array(Type.String())),
    rpc_method_authorizations: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    comments: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PlatformSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    auths: Type.Optional(Type.Array(PlatformAuthSchema)),
  },
  { additionalProperties: false },
);

export const BundleSchema = Type.Object(
  {
    roles: Type.Optional(Type.Array(RoleSchema)),
    groups: Type.Optional(Type.Array(GroupSchema)),
    users: Type.Optional(Type.Array(UserSchema)),
    applications: Type.Optional(Type.Array(ApplicationSchema)),
    scopeCatalog: Type.Optional(Type.Array(CatalogEntrySchema)),
    platforms: Type.Optional(Type.Array(PlatformSchema)),
  },
  { additionalProperties: false },
);

export type Bundle = Static<typeof BundleSchema>;
export type BundleRole = Static<typeof RoleSchema>;
export type BundleGroup = Static<typeof GroupSchema>;
export type BundleUser = Static<typeof UserSchema>;
export type BundleApplication = Static<typeof ApplicationSchema>;
export type BundleCatalogEntry = Static<typeof CatalogEntrySchema>;

/** Sections that are checked but not yet acted on by this version. */
export const VALIDATED_ONLY_SECTIONS = ['platforms'] as const;
