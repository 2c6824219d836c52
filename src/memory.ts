// Gives back the memory start-up used, once the server is listening.
//
// Start-up allocates fast (every module compiled, every route schema compiled, a bundle maybe
// applied), and V8 grows its young generation and leaves start-up garbage in the old one
// accordingly: about 30 MiB that a server answering small requests does not need, but keeps
// resident. One memory-reducing collection (what V8 does on a low-memory notification) after
// start-up returns it; request load does not grow it back. Measured: the server's resident
// memory under introspection load 165-200 MiB without, 145-165 MiB with, at the same CPU per
// request.

import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export function releaseStartupMemory(): void {
  // `gc` exists only in contexts made while --expose-gc is set: make one, then unset it again
  v8.setFlagsFromString('--expose-gc');
  let collect: Collect;
  try {
    collect = vm.runInNewContext('gc') as Collect;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
