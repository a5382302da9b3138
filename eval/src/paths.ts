/** Where the repository and the public evaluation data live, relative to this file (never absolute). */
import path from "node:path";

/** The repository root (eval/src/ → ../..). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

/** The shared evaluation data: `../shared/evaldata` beside the checkout; absent on CI clones. */
export const EVALDATA_ROOT = path.resolve(REPO_ROOT, "..", "shared", "evaldata");

/** A set's default folder. */
export function defaultDataFolder(set: string): string {
  return path.resolve(REPO_ROOT, "..", "shared", "evaldata", set);
}
