// dist/release/manifest.json: what the package step wrote, so that publish (or
// another machine) can work from the release directory alone.
export const MANIFEST_FILE = 'manifest.json';
export const SUMS_FILE = 'SHA256SUMS';

export interface ManifestBinary {
  version: string;
  ref: string;
  commit: string;
  /** Image id (sha256:...) of the builder the binary was compiled in. */
  builder_image_id: string;
  /** `<bin>-<version>.xz`, relative to the release directory. */
  file: string;
  size: number;
  sha256: string;
  md5: string;
}

export interface Manifest {
  schema: 1;
  binaries: Record<string, ManifestBinary>;
  /** Every file of the release directory that is published, sorted, manifest.json included. */
  files: string[];
}
