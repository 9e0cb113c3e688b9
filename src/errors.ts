/**
 * Errors every layer of jettison throws. Each carries a stable `code` so programs can branch on
 * it, and the CLI maps any JettisonError to its message and a non-zero exit.
 */

/** A place in a source file (Dockerfile, descriptor). Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export class JettisonError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input in a source file: the message starts with FILE:LINE:COL. */
export class SourceError extends JettisonError {
  readonly position: SourcePosition;
  /** The message without the position prefix. */
  readonly detail: string;
  constructor(code: string, position: SourcePosition, detail: string, options?: ErrorOptions) {
    super(code, `${position.file}:${position.line}:${position.column}: ${detail}`, options);
    this.position = position;
    this.detail = detail;
  }
}

/** The Dockerfile cannot be parsed or is not valid (BuildKit would refuse it too). */
export class DockerfileError extends SourceError {
  constructor(position: SourcePosition, detail: string, options?: ErrorOptions) {
    super('DOCKERFILE', position, detail, options);
  }
}

/** Word expansion failed (bad substitution, ${V:?msg}, unterminated quote…). */
export class ExpansionError extends JettisonError {
  constructor(message: string) {
    super('EXPANSION', message);
  }
}

/** Content did not match its digest: never stored, never used. */
export class DigestMismatchError extends JettisonError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super('DIGEST_MISMATCH', `${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A path in a tar, a context or a copy source would leave its root. */
export class PathEscapeError extends JettisonError {
  constructor(message: string) {
    super('PATH_ESCAPE', message);
  }
}

/**
 * A registry refused or failed a request (after retries). `status` is the HTTP status when there was
 * one; `registryCode` the distribution spec error code (MANIFEST_UNKNOWN, DENIED…) when the body had one.
 * Codes: NOT_FOUND, UNAUTHORIZED, REGISTRY (anything else).
 */
export class RegistryError extends JettisonError {
  readonly status: number | undefined;
  readonly registryCode: string | undefined;
  constructor(code: string, message: string, details: { status?: number; registryCode?: string } = {}, options?: ErrorOptions) {
    super(code, message, options);
    this.status = details.status;
    this.registryCode = details.registryCode;
  }
}

/**
 * A build graph could not be solved: a step failed (`vertex` names it, `cause` is the step's own
 * error) or the build was canceled. The message follows BuildKit's "failed to solve: …".
 */
export class SolveError extends JettisonError {
  /** The display name of the failed step, when a step failed. */
  readonly vertex: string | undefined;
  readonly canceled: boolean;
  constructor(message: string, details: { vertex?: string; canceled?: boolean } = {}, options?: ErrorOptions) {
    super(details.canceled ? 'CANCELED' : 'SOLVE', `failed to solve: ${message}`, options);
    this.vertex = details.vertex;
    this.canceled = details.canceled ?? false;
  }
}
