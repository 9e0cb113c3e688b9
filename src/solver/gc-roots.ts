/**
 * Makes the build cache's records GC roots of the store's prune: registers a root provider that
 * lists every blob a cache record under the pruned store's root refers to. Call it once in any
 * process that may prune (the CLI does at start-up).
 */
import { addRootProvider } from '../store/index.ts';
import { cacheBlobRoots } from './cache.ts';

/** Registers the provider; returns a function that unregisters it. */
export function registerCacheGcRoots(): () => void {
  return addRootProvider((store) => cacheBlobRoots(store.root));
}
