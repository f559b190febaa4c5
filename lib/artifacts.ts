// The artifact list that flows one way through the steps: fetch adds sources,
// compile adds binaries, package adds archives, checksums and the manifest,
// publish consumes what is uploadable.
export interface SourceArtifact {
  kind: 'source';
  binary: string;
  /** Checked-out tree of exactly `commit`. */
  dir: string;
  ref: string;
  commit: string;
  version: string;
}

export interface BinaryArtifact {
  kind: 'binary';
  binary: string;
  /** The user's copy (dist/bin/<name>). */
  path: string;
  /** The content-addressed compile output the copy came from: what package compresses, checked against `sha256`. */
  stored: string;
  version: string;
  commit: string;
  builderImageId: string;
  /** Of the binary, as compile verified it (package keys its xz cache on it). */
  sha256: string;
  size: number;
}

export interface ArchiveArtifact {
  kind: 'archive';
  binary: string;
  path: string;
  version: string;
  commit: string;
  size: number;
  sha256: string;
  md5: string;
}

/** `.xz.md5`, `.xz.sha256`, `SHA256SUMS`. */
export interface ChecksumArtifact {
  kind: 'checksum';
  path: string;
  binary?: string;
}

export interface ManifestArtifact {
  kind: 'manifest';
  path: string;
}

export type Artifact = SourceArtifact | BinaryArtifact | ArchiveArtifact | ChecksumArtifact | ManifestArtifact;
export type ArtifactKind = Artifact['kind'];
export type UploadableArtifact = ArchiveArtifact | ChecksumArtifact | ManifestArtifact;

export class ArtifactList {
  readonly #items: Artifact[] = [];
  readonly #listeners: ((artifact: Artifact) => void)[] = [];

  add(artifact: Artifact): void {
    this.#items.push(artifact);
    for (const listener of this.#listeners) listener(artifact);
  }

  /** Called with every artifact added from now on: a later step may start on one before the step making it ends. */
  onAdd(listener: (artifact: Artifact) => void): void {
    this.#listeners.push(listener);
  }

  all(): readonly Artifact[] {
    return this.#items;
  }

  ofKind<K extends ArtifactKind>(kind: K): Extract<Artifact, { kind: K }>[] {
    return this.#items.filter((a): a is Extract<Artifact, { kind: K }> => a.kind === kind);
  }

  uploadable(): UploadableArtifact[] {
    return this.#items.filter((a): a is UploadableArtifact => a.kind === 'archive' || a.kind === 'checksum' || a.kind === 'manifest');
  }
}
