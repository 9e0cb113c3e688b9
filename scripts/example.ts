/**
 * The README's main job: build the example multi-stage image (examples/multistage) into the local store
 * and show the result. No registry is reachable here, so the two base images it names are made first from
 * Debian packages when the store does not have them: `busybox:latest` from the busybox-static .deb and
 * `debian:bookworm` from mmdebstrap (cached as tars in $JETTISON_TEST_CACHE, default /var/tmp/jettison-test-cache).
 *
 *   npm run -s example            # store: $JETTISON_ROOT or ~/.local/share/jettison
 */
import { busyboxRootfs, debianRootfs } from '../test/support/images.ts';
import { main } from '../src/cli/main.ts';
import { openStore, readImage } from '../src/store/index.ts';

async function cli(...args: string[]): Promise<void> {
  console.error(`\n$ jettison ${args.join(' ')}`);
  const code = await main(args);
  if (code !== 0) process.exit(code);
}

async function ensureBase(name: string, makeTar: () => Promise<string>): Promise<void> {
  const store = openStore(undefined, process.env);
  if (await readImage(store, name).then(() => true, () => false)) return;
  console.error(`making base image ${name} from Debian packages (cached after the first time)…`);
  await cli('import', await makeTar(), name);
}

await ensureBase('busybox:latest', busyboxRootfs);
await ensureBase('debian:bookworm', () => debianRootfs({ packages: [] }));
await cli('build', '-t', 'hello:latest', 'examples/multistage');
await cli('images');
await cli('run', '--rm', 'hello:latest');
await cli('run', '--rm', 'hello:latest', 'jettison');
