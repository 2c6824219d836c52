// TypeBox's value checker, loaded the first time a document is checked (a bundle, a new user or
// application). It is a large module (about 5 MiB of heap) that a server answering requests
// never needs, so it is not loaded at start-up.

import { createRequire } from 'node:module';

type ValueModule = typeof import('typebox/value');

const require = createRequire(import.meta.url);
let loaded: ValueModule['Value'] | null = null;

/** `Value` of typebox/value (Check, Errors, …). */
export function schemaValue(): ValueModule['Value'] {
  loaded ??= (require('typebox/value') as ValueModule).Value;
  return loaded;
}
