/**
 * What each vertex of a build graph does when the solver runs it, on the worker:
 * - image: its layers (already in the store: bases are pulled before solving); scratch/context: nothing;
 * - exec (RUN): a snapshot over the input's layers, the process through the OCI runtime with its mounts,
 *   the snapshot's changes written as a layer;
 * - file (COPY, ADD, WORKDIR, heredoc files): the same snapshot, files written by copy.ts's rules, a layer;
 * - merge (COPY --link): the inputs' layers stacked.
 * A result is the list of layers of the resulting file system (base first): the cache stores exactly that.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lchown, mkdir, mkdtemp, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JettisonError } from '../errors.ts';
import { chmodChange, type ModeChange } from '../util/chmod.ts';
import { encodeLayer, type Compression } from '../image/layer.ts';
import { applyLayerTar, writeLayerTar, type LayerSource } from '../image/tar/index.ts';
import { BLOCK, checksumOk, isZeroBlock } from '../image/tar/header.ts';
import type { Digest, Manifest, ImageConfig } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import type { CachedResult, ExecuteContext, ExecOp, FileOp, LayerResult, Vertex, CopyAction } from '../solver/index.ts';
import { adoptUpper, layerDirs, resolveUser, type Commit, type Snapshot, type Worker } from '../worker/index.ts';
import type { MountSpec as WorkerMount } from '../worker/index.ts';
import { cloneGit, parseGitUrl, type BuildContext } from '../context/source.ts';
import { resolveInRoot, cleanRelative } from '../context/scoped-path.ts';
import { ensureDir, executeCopy, planCopy, CopyError, type CopyRequest } from './copy.ts';
import { isRemote } from './graph.ts';
import type { Step } from '../frontend/dockerfile/index.ts';

/** sha256 of a tar holding nothing but its end-of-archive blocks: a step that changed nothing. */
const EMPTY_TAR_DIFFID = `sha256:${createHash('sha256').update(Buffer.alloc(1024)).digest('hex')}`;

export interface ExecutorDeps {
  store: ContentStore;
  worker: Worker;
  /** Named local contexts by name ("context" is the main one). */
  contexts: Map<string, BuildContext>;
  /** Vertex key → context name, for context vertices. */
  contextOf: Map<Digest, string>;
  /** Secret values by id (from --secret). Never logged, never hashed. */
  secrets: Map<string, Buffer>;
  /** The build's --network: what RUN's "default" means. */
  network: 'host' | 'none';
  compression: Compression;
  sourceDateEpoch?: number;
  /** Builds a step-failure message from a vertex (stage, Dockerfile line). */
  describe(v: Vertex): string;
  /** The lowered Dockerfile step a vertex was made from (heredoc scripts, --checksum, --keep-git-dir). */
  stepOf(v: Vertex): Step | undefined;
}

export class StepError extends JettisonError {
  constructor(message: string) {
    super('STEP_FAILED', message);
  }
}

/**
 * What a cache mount's from= is, for the cache's key: the layer chain (diffIDs) of the input's result,
 * so the same content gives the same cache in every build and any change gives a new one.
 */
function baseKey(layers: LayerResult[]): string {
  return createHash('sha256').update(layers.map((l) => l.diffID).join(',')).digest('hex');
}

/**
 * Which vertex made each layer of a result (`config.made`, parallel to `layers`): it tells history which
 * steps made a layer, identically whether a step ran or came from the cache.
 */
export function madeBy(r: CachedResult): string[] {
  const made = (r.config as { made?: unknown } | undefined)?.made;
  return Array.isArray(made) && made.length === r.layers.length ? (made as string[]) : r.layers.map(() => '');
}

/** When each layer of a result was made (ISO times, parallel to `layers`; '' when unknown). */
export function madeAt(r: CachedResult): string[] {
  const times = (r.config as { times?: unknown } | undefined)?.times;
  return Array.isArray(times) && times.length === r.layers.length ? (times as string[]) : r.layers.map(() => '');
}

function withLayer(input: CachedResult, layer: LayerResult | null, key: string): CachedResult {
  if (!layer) return { layers: input.layers, config: { made: madeBy(input), times: madeAt(input) } };
  return { layers: [...input.layers, layer], config: { made: [...madeBy(input), key], times: [...madeAt(input), new Date().toISOString()] } };
}

export function createExecutor(deps: ExecutorDeps): (v: Vertex, ctx: ExecuteContext<CachedResult>) => Promise<CachedResult> {
  const { store, worker } = deps;

  const dirsOf = async (layers: LayerResult[]): Promise<string[]> =>
    layerDirs(worker.stateDir, store, layers.map((l) => l.descriptor), layers.map((l) => l.diffID));

  /** Writes a snapshot's changes as a layer; keeps an overlay upper dir as the unpacked form of that layer. */
  async function commitLayer(commit: Commit): Promise<LayerResult | null> {
    // An empty upper dir is an empty layer: no tar, no xattr read. (The upper root itself is never
    // opaque: nothing can remove "/".)
    if (commit.kind === 'overlay-upper' && (await readdir(commit.upperDir)).length === 0) return null;
    const source: LayerSource = commit.kind === 'overlay-upper' ? { type: 'overlay', upper: commit.upperDir } : { type: 'diff', lower: commit.lowerDir, upper: commit.upperDir };
    const tar = writeLayerTar(source, deps.sourceDateEpoch !== undefined ? { sourceDateEpoch: deps.sourceDateEpoch } : {});
    const encoded = await encodeLayer(tar, { compression: deps.compression }, store);
    if (encoded.diffID === EMPTY_TAR_DIFFID) return null;
    if (commit.kind === 'overlay-upper') await adoptUpper(worker.stateDir, commit.upperDir, encoded.diffID, commit.durable);
    return { descriptor: encoded.descriptor, diffID: encoded.diffID };
  }

  async function withSnapshot<T>(layers: LayerResult[], fn: (snap: Snapshot) => Promise<T>): Promise<T> {
    const snap = await worker.prepare(await dirsOf(layers));
    try {
      return await fn(snap);
    } finally {
      await worker.release(snap);
    }
  }

  async function imageResult(v: Vertex<{ kind: 'image'; digest: Digest; platform: never }>): Promise<CachedResult> {
    const manifest = await store.readJSON<Manifest>(v.op.digest);
    const config = await store.readJSON<ImageConfig>(manifest.config.digest);
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== manifest.layers.length) throw new JettisonError('BAD_IMAGE', `image ${v.op.digest}: ${manifest.layers.length} layers but ${diffIDs.length} diff_ids`);
    return {
      layers: manifest.layers.map((descriptor, i) => ({ descriptor, diffID: diffIDs[i] })),
      config: { made: manifest.layers.map(() => v.key), times: manifest.layers.map(() => config.created ?? '') },
      blobs: [v.op.digest, manifest.config.digest],
    };
  }

  async function runExec(v: Vertex<ExecOp>, ctx: ExecuteContext<CachedResult>): Promise<CachedResult> {
    const op = v.op;
    const input = ctx.inputs[0];
    const extraSnaps: Snapshot[] = [];
    let scriptDir: string | undefined;
    const views: string[] = [];
    try {
      const mounts: WorkerMount[] = [];
      const secretEnv: Record<string, string> = {};
      for (const m of op.mounts ?? []) {
        switch (m.type) {
          case 'bind': {
            const from = v.inputs[m.input];
            const ctxName = deps.contextOf.get(from.key);
            let source: string;
            if (ctxName) {
              const c = deps.contexts.get(ctxName)!;
              source = await resolveInRoot(c.root, m.source);
              const st = await stat(source).catch(() => undefined);
              if (st && !c.ignore.empty) {
                // .dockerignore applies to what a RUN sees of the context too (BuildKit never sends the
                // ignored files): the mount is a copy of the files not ignored, not the host directory.
                const view = await mkdtemp(join(worker.stateDir, 'bind-context-'));
                views.push(view);
                const dest = st.isDirectory() ? '/' : `/${posix.basename(source)}`;
                await executeCopy({ source: { root: c.root, ignore: c.ignore, ownership: 'keep' }, paths: [m.source], dest }, view);
                source = st.isDirectory() ? view : join(view, posix.basename(source));
              }
            } else {
              const snap = await worker.prepare(await dirsOf(ctx.inputs[m.input].layers));
              extraSnaps.push(snap);
              source = await resolveInRoot(snap.rootfs, m.source);
            }
            try {
              await stat(source);
            } catch {
              throw new StepError(`failed to compute cache key: "${posix.join('/', cleanRelative(m.source))}": not found`);
            }
            mounts.push({ type: 'bind', source, target: m.target, readonly: m.readonly });
            break;
          }
          case 'cache': {
            // from=: the cache starts as that input's file system and is keyed by it too (BuildKit keys
            // it by id and the from ref); source= is the path inside it that is mounted.
            let base: Extract<WorkerMount, { type: 'cache' }>['base'];
            if (m.from !== undefined) {
              const layers = ctx.inputs[m.from].layers;
              base = { key: baseKey(layers), layers: () => dirsOf(layers) };
            }
            mounts.push({
              type: 'cache', id: m.id, target: m.target, sharing: m.sharing,
              ...(base ? { base, source: m.source ?? '/' } : {}),
              ...(m.readonly ? { readonly: true } : {}),
              ...(m.uid !== undefined ? { uid: m.uid } : {}),
              ...(m.gid !== undefined ? { gid: m.gid } : {}),
              ...(m.mode !== undefined ? { mode: m.mode } : {}),
            });
            break;
          }
          case 'tmpfs':
            mounts.push({ type: 'tmpfs', target: m.target, ...(m.size !== undefined ? { size: m.size } : {}) });
            break;
          case 'secret': {
            const value = deps.secrets.get(m.id);
            if (value === undefined) {
              if (m.required) throw new StepError(`secret ${m.id}: not found`);
              break;
            }
            if (m.env) secretEnv[m.env] = value.toString('utf8');
            if (m.target) {
              mounts.push({
                type: 'secret', target: m.target, data: value,
                ...(m.uid !== undefined ? { uid: m.uid } : {}),
                ...(m.gid !== undefined ? { gid: m.gid } : {}),
                ...(m.mode !== undefined ? { mode: m.mode } : {}),
              });
            }
            break;
          }
          case 'ssh':
            if (m.required) throw new StepError(`no SSH agent socket was forwarded for id "${m.id}" (jettison does not support --ssh)`);
            break;
        }
      }
      const step = deps.stepOf(v);
      if (step?.kind === 'run' && step.script) {
        // RUN <<EOF with a #! line: the heredoc is a file under /dev/pipes (0755, read-only), run as a
        // program, as BuildKit mounts it. A bind of a host file: secret mounts are noexec.
        scriptDir = await mkdtemp(join(worker.stateDir, 'heredoc-'));
        const file = join(scriptDir, 'script');
        await writeFile(file, step.script.data, { mode: 0o755 });
        await chmod(file, 0o755);
        mounts.push({ type: 'bind', source: file, target: `/dev/pipes/${step.script.name}`, readonly: true });
      }
      return await withSnapshot(input.layers, async (snap) => {
        const network = op.network === 'none' ? 'none' : op.network === 'host' ? 'host' : deps.network;
        const res = await worker.exec(
          snap,
          { args: op.args, env: op.env, cwd: op.cwd, ...(op.user ? { user: op.user } : {}), network, mounts, secretEnv },
          { onStdout: (c) => ctx.log('stdout', c), onStderr: (c) => ctx.log('stderr', c), signal: ctx.signal },
        );
        if (res.exitCode !== 0) {
          throw new StepError(`${deps.describe(v)}: process "${op.args.join(' ')}" did not complete successfully: exit code: ${res.exitCode}`);
        }
        return withLayer(input, await commitLayer(await worker.commit(snap)), v.key);
      });
    } finally {
      if (scriptDir) await rm(scriptDir, { recursive: true, force: true }).catch(() => undefined);
      for (const view of views) await rm(view, { recursive: true, force: true }).catch(() => undefined);
      for (const s of extraSnaps) await worker.release(s).catch(() => undefined);
    }
  }

  async function runFile(v: Vertex<FileOp>, ctx: ExecuteContext<CachedResult>): Promise<CachedResult> {
    const input = ctx.inputs[0];
    const extraSnaps: Snapshot[] = [];
    try {
      return await withSnapshot(input.layers, async (snap) => {
        const root = snap.rootfs;
        for (const a of v.op.actions) {
          let userRoot = root;
          if ((a.action === 'copy' || a.action === 'mkfile') && a.chown && a.chownFrom !== undefined) {
            // COPY --link runs on scratch: names resolve in the stage it lands on (BuildKit does the same).
            const users = await worker.prepare(await dirsOf(ctx.inputs[a.chownFrom].layers));
            extraSnaps.push(users);
            userRoot = users.rootfs;
          }
          const chown = 'chown' in a && a.chown ? await resolveChown(userRoot, a.chown) : undefined;
          switch (a.action) {
            case 'mkdir': {
              await ensureDir(root, a.path, chown, a.mode ?? 0o755);
              break;
            }
            case 'mkfile': {
              const dir = posix.dirname(a.path);
              await ensureDir(root, dir, chown);
              const host = await resolveInRoot(root, a.path, { followFinal: false });
              await rm(host, { force: true });
              await writeFile(host, a.data);
              await chmod(host, a.mode ?? 0o644);
              await lchown(host, chown?.uid ?? 0, chown?.gid ?? 0);
              break;
            }
            case 'rm':
              await rm(await resolveInRoot(root, a.path, { followFinal: false }), { recursive: true, force: a.allowNotFound ?? false });
              break;
            case 'copy':
              await runCopy(v, ctx, a, root, chown, extraSnaps);
              break;
          }
        }
        return withLayer(input, await commitLayer(await worker.commit(snap)), v.key);
      });
    } finally {
      for (const s of extraSnaps) await worker.release(s).catch(() => undefined);
    }
  }

  async function runCopy(v: Vertex<FileOp>, ctx: ExecuteContext<CachedResult>, a: CopyAction, destRoot: string, chown: { uid: number; gid: number } | undefined, extraSnaps: Snapshot[]): Promise<void> {
    const chmod = a.chmod !== undefined ? chmodChange(a.chmod) : undefined;
    if (a.src.some(isRemote)) {
      for (const src of a.src) await addRemote(v, src, a, destRoot, chown, chmod, ctx);
      return;
    }
    const from = v.inputs[a.input];
    const ctxName = deps.contextOf.get(from.key);
    let source: CopyRequest['source'];
    if (ctxName) {
      const c = deps.contexts.get(ctxName)!;
      source = { root: c.root, ignore: c.ignore, ownership: 'reset' };
    } else {
      const snap = await worker.prepare(await dirsOf(ctx.inputs[a.input].layers));
      extraSnaps.push(snap);
      source = { root: snap.rootfs, ownership: 'keep' };
    }
    const req: CopyRequest = {
      source,
      paths: a.src,
      dest: a.dest,
      ...(chown ? { chown } : {}),
      ...(chmod !== undefined ? { chmod } : {}),
      ...(a.parents ? { parents: true } : {}),
      ...(a.exclude ? { exclude: a.exclude } : {}),
    };
    try {
      if (a.unpack) {
        await addLocal(req, destRoot);
      } else {
        await executeCopy(req, destRoot);
      }
    } catch (err) {
      if (err instanceof CopyError) throw new StepError(`${deps.describe(v)}: failed to calculate checksum of ref: ${err.message}`);
      throw err;
    }
  }

  /** ADD of local sources: archives (tar, gzip, bzip2, xz) are extracted into the destination; the rest copied. */
  async function addLocal(req: CopyRequest, destRoot: string): Promise<void> {
    const archives: string[] = [];
    const plain: string[] = [];
    for (const p of req.paths) {
      const matches: string[] = [];
      for await (const e of planCopy({ ...req, paths: [p] }, destRoot)) {
        if (e.stat.isFile() && (await isTarArchive(e.src))) matches.push(e.src);
        else {
          matches.length = 0;
          break;
        }
      }
      if (matches.length > 0) archives.push(...matches);
      else plain.push(p);
    }
    if (plain.length > 0) await executeCopy({ ...req, paths: plain }, destRoot);
    for (const file of archives) {
      const destDir = req.dest.endsWith('/') ? req.dest : `${req.dest}/`;
      await ensureDir(destRoot, destDir, req.chown);
      if (!req.chown) {
        // Owners, modes and mtimes from the archive (as tar -x as root).
        await applyLayerTar(await decompressed(file), await resolveInRoot(destRoot, destDir), { mode: 'merge' });
        continue;
      }
      // --chown: everything extracted gets that owner (BuildKit's untar with ChownOpts): extract to a
      // staging directory, then copy from it with the owner applied.
      const staging = await mkdtemp(join(worker.stateDir, 'add-unpack-'));
      try {
        await applyLayerTar(await decompressed(file), staging, { mode: 'merge' });
        await executeCopy({ source: { root: staging, ownership: 'keep' }, paths: ['.'], dest: destDir, chown: req.chown }, destRoot);
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
  }

  async function addRemote(v: Vertex<FileOp>, src: string, a: CopyAction, destRoot: string, chown: { uid: number; gid: number } | undefined, mode: ModeChange | undefined, ctx: ExecuteContext<CachedResult>): Promise<void> {
    const git = parseGitUrl(src);
    const tmp = await mkdtemp(join(worker.stateDir, 'add-'));
    try {
      const step = deps.stepOf(v);
      const copyStep = step && (step.kind === 'add' || step.kind === 'copy') ? step : undefined;
      if (git) {
        await cloneGit(git, tmp, { keepGitDir: copyStep?.keepGitDir ?? false });
        await executeCopy({ source: { root: tmp, ownership: 'reset' }, paths: [git.subdir ?? '.'], dest: a.dest.endsWith('/') ? a.dest : `${a.dest}/`, ...(chown ? { chown } : {}), ...(mode !== undefined ? { chmod: mode } : {}) }, destRoot);
        return;
      }
      ctx.status({ id: src, current: 0 });
      const res = await fetch(src, { signal: ctx.signal });
      if (!res.ok || !res.body) throw new StepError(`ADD ${src}: invalid response status ${res.status}`);
      const name = posix.basename(new URL(src).pathname) || 'index.html';
      const file = join(tmp, 'download');
      const hash = createHash('sha256');
      let bytes = 0;
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      await pipeline(body, createWriteStream(file));
      ctx.status({ id: src, current: bytes, total: bytes, done: true });
      const digest = `sha256:${hash.digest('hex')}`;
      const expected = copyStep?.checksum ?? undefined;
      // BuildKit's wording: "digest mismatch <got>: <expected>".
      if (expected && expected !== digest) throw new StepError(`ADD ${src}: digest mismatch ${digest}: ${expected}`);
      const lastModified = res.headers.get('last-modified');
      if (lastModified) await utimes(file, new Date(lastModified), new Date(lastModified));
      await chmod(file, 0o600);
      const staged = join(tmp, 'staged');
      await mkdir(staged);
      await rename(file, join(staged, name));
      const dest = a.dest.endsWith('/') ? `${a.dest}${name}` : a.dest;
      await executeCopy({ source: { root: staged, ownership: 'reset' }, paths: [name], dest, ...(chown ? { chown } : {}), ...(mode !== undefined ? { chmod: mode } : {}) }, destRoot);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  return async (v, ctx) => {
    switch (v.op.kind) {
      case 'image':
        return imageResult(v as never);
      case 'scratch':
      case 'context':
        return { layers: [] };
      case 'merge':
        return { layers: ctx.inputs.flatMap((r) => r.layers), config: { made: ctx.inputs.flatMap((r) => madeBy(r)), times: ctx.inputs.flatMap((r) => madeAt(r)) } };
      case 'exec':
        return runExec(v as Vertex<ExecOp>, ctx);
      case 'file':
        return runFile(v as Vertex<FileOp>, ctx);
      case 'config':
        return { layers: ctx.inputs[0]?.layers ?? [] };
    }
  };
}

/**
 * The owner a file op gives (COPY/ADD --chown, WORKDIR under USER, heredoc files) the way BuildKit's
 * llb.WithUser + readUser resolve it, which differs from USER for processes: a numeric user alone
 * means uid = gid = that number (no passwd lookup); a name takes uid and primary gid from the stage's
 * /etc/passwd; a group part (number, or name from /etc/group) overrides the gid. "root" is 0.
 */
export async function resolveChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? '' : spec.slice(colon + 1);
  const id = (s: string): number | undefined => (s === 'root' ? 0 : /^\d+$/.test(s) ? Number(s) : undefined);
  let uid = 0;
  let gid = 0;
  const uidNum = id(userPart);
  if (uidNum !== undefined) {
    uid = uidNum;
    gid = uidNum;
  } else if (userPart !== '') {
    const u = await resolveUser(root, userPart);
    uid = u.uid;
    gid = u.gid;
  }
  if (groupPart !== '') {
    const gidNum = id(groupPart);
    gid = gidNum ?? (await resolveUser(root, `0:${groupPart}`)).gid;
  }
  return { uid, gid };
}

async function archiveKind(file: string): Promise<'gzip' | 'bzip2' | 'xz' | 'zstd' | 'tar' | undefined> {
  const fh = await import('node:fs/promises').then((m) => m.open(file, 'r'));
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (b[0] === 0xfd && b.subarray(1, 6).toString('latin1') === '7zXZ\0') return 'xz';
    if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
    if (bytesRead >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * BuildKit's isArchivePath: a file is extracted by ADD when, decompressed if it is gzip, bzip2, xz or
 * zstd, it starts with a valid tar header. Anything else (a .gz of a text file, a corrupt archive) is
 * copied as it is.
 */
async function isTarArchive(file: string): Promise<boolean> {
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of await decompressed(file)) {
      chunks.push(Buffer.from(chunk));
      have += chunk.length;
      if (have >= BLOCK) break;
    }
  } catch {
    return false;
  }
  if (have < BLOCK) return false;
  const block = Buffer.concat(chunks).subarray(0, BLOCK);
  return !isZeroBlock(block) && checksumOk(block);
}

/** The tar stream inside an archive file, decompressed by a standard tool when Node has no codec. */
async function decompressed(file: string): Promise<AsyncIterable<Uint8Array>> {
  const kind = await archiveKind(file);
  const { createReadStream } = await import('node:fs');
  const zlib = await import('node:zlib');
  if (kind === 'bzip2' || kind === 'xz') return toolOutput(kind === 'xz' ? 'xz' : 'bzip2', file);
  const src = createReadStream(file);
  if (kind === 'gzip') return src.pipe(zlib.createGunzip());
  if (kind === 'zstd') return src.pipe(zlib.createZstdDecompress());
  return src;
}

/**
 * `TOOL -dc FILE`'s output, started when first read (a child's stdout left unread while the caller
 * prepares could lose the whole output), failing when the tool does: a bad archive is an error,
 * never an empty extraction.
 */
async function* toolOutput(tool: string, file: string): AsyncGenerator<Buffer> {
  const child = spawn(tool, ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  const closed = new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code) => res(code));
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
  const code = await closed;
  if (code !== 0) throw new StepError(`failed to decompress ${posix.basename(file)} (${tool}): ${stderr.trim() || `exit code ${code}`}`);
}
