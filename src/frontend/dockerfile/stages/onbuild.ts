/**
 * ONBUILD triggers stored in a base image's config (OnBuild strings) → typed instructions the
 * engine runs at that FROM, before the stage's own instructions (pass them to lowerStage).
 */
import { DockerfileError } from '../../../errors.ts';
import { parseDockerfile } from '../parser/index.ts';
import { parseInstruction } from '../instructions/parse.ts';
import type { Command } from '../instructions/types.ts';

/**
 * Parses each trigger as a one-instruction Dockerfile. `file` names the triggers in messages
 * (e.g. "Dockerfile:3 ONBUILD of debian:bookworm").
 */
export function parseOnbuildTriggers(triggers: string[], file = 'ONBUILD'): Command[] {
  return triggers.map((text) => {
    const df = parseDockerfile(text, { file });
    if (df.instructions.length !== 1) {
      throw new DockerfileError({ file, line: 1, column: 1 }, 'onbuild trigger should be a single expression');
    }
    const inst = df.instructions[0];
    const word = inst.keyword.toUpperCase();
    if (word === 'ONBUILD') throw new DockerfileError({ file, line: 1, column: 1 }, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (word === 'FROM' || word === 'MAINTAINER') {
      throw new DockerfileError({ file, line: 1, column: 1 }, `${word} isn't allowed as an ONBUILD trigger`);
    }
    return parseInstruction(inst, file) as Command;
  });
}
