/**
 * The exporter folder's public surface: OCI layouts (dir or tar), docker archives, and loading
 * either back into the store.
 */
export {
  writeOciLayoutDir,
  writeOciLayoutTar,
  loadOciLayoutDir,
  indexEntry,
  namesFromAnnotations,
  type ImageToExport,
  type LoadedImage,
} from './oci-layout.ts';
export { writeDockerArchive, parseDockerManifest, layerCompression, type DockerManifestEntry } from './docker-archive.ts';
export { loadArchive, loadArchiveStream } from './load.ts';
export { ArchiveTarWriter } from './archive-tar.ts';
