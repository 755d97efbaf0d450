import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp, imported when the first image is processed rather than at start: loading it and libvips
 * takes about 0.2 s and tens of MiB that a portal whose logos never change never needs.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
