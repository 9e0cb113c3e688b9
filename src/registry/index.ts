/**
 * The registry client's public surface (OCI distribution spec): pull and push images between a
 * registry and the content store, log in and out, and resolve registry settings (insecure hosts,
 * mirrors) from flags and jettison's config file.
 */
export { pullImage, type PullOptions, type PullResult, type TransferEvent, type TransferOptions, type ProgressCallback } from './pull.ts';
export { pushImage, type PushOptions, type PushResult, type BlobOutcome } from './push.ts';
export { login, logout, type LoginOptions, type LoginResult } from './login.ts';
export {
  resolveRegistryConfig,
  jettisonConfigPath,
  registryEndpoint,
  isInsecure,
  type RegistryConfig,
  type RegistryGlobals,
} from './config.ts';
export { readCredentials, dockerConfigPath, authKey, type Credentials } from './credentials.ts';
export { DOCKER_HUB } from './config.ts';
