/**
 * The image folder's public surface: OCI types, digests, references, platforms, manifests and
 * configs, and the layer codec.
 */
export * from './types.ts';
export * from './digest.ts';
export * from './reference.ts';
export * from './layer.ts';
export * from './platform.ts';
export * from './manifest.ts';
export * from './config.ts';
