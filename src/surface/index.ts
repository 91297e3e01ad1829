/**
 * The tool surface: what each client sees of the backends. Pure parts (globs, a server's policy, name
 * fitting, definition hashes) and the live view the front holds (`Surface`). A profile reuses
 * `globFilter` and `SurfacePolicy`; search mode asks `Surface.toolVisible` / `checkCall`.
 */

export { fitNames, HASH_SUFFIX_LENGTH, shortName } from './fit-names.js';
export { anyOf, globFilter, type NameMatcher } from './globs.js';
export {
  approveInFile,
  definitionHash,
  type Observation,
  type PinFile,
  type PinnedParts,
  PinStore,
  pendingInFile,
  readPins,
} from './pins.js';
export { OPEN_POLICY, SurfacePolicy } from './policy.js';
export { type CallPath, Surface, type SurfaceOptions, type SurfaceReport } from './surface.js';
