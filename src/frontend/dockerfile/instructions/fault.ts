/**
 * An instruction-level validation failure without a position; parse.ts turns it into a
 * DockerfileError at the instruction's FILE:LINE:COL.
 */
export class InstructionFault extends Error {}
