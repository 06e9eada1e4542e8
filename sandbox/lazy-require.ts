// A module loaded on first use. Most sessions never resolve a name, make no
// plain HTTP request through the proxy and send no telemetry to the broker:
// for them, node:http and node:dns would only add to every cold start.
import { createRequire } from 'node:module';

export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(import.meta.url)(specifier) as T);
}
