// What every publish target implements: a plan of what it would do with the
// release files, and carrying it out, each published file ending verified.
export interface PublishFile {
  /** Asset name: the file's base name. */
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/**
 * create: the release; upload: a new asset; replace: a changed one; delete: a leftover;
 * rename: a verified copy an interrupted run left under its temporary name; publish: a draft.
 */
export type Action = 'create' | 'upload' | 'replace' | 'skip' | 'delete' | 'rename' | 'publish';

export interface PlanStep {
  action: Action;
  /** Asset or release name. */
  name: string;
  /** Why (changed sha256, starter state, missing...). */
  reason: string;
}

export interface Outcome {
  name: string;
  size: number;
  sha256: string;
  action: Action;
  url: string;
}

export interface Publisher {
  /** Where the files go, for messages: "github OWNER/NAME release attachedfiles". */
  readonly description: string;
  /** Reads the target and says what publish would do: the decision publish makes, stopped before any write. */
  plan(files: readonly PublishFile[]): Promise<PlanStep[]>;
  /** Makes the same decision as plan() and carries it out; every file is verified in place when this resolves. */
  publish(files: readonly PublishFile[]): Promise<Outcome[]>;
}
