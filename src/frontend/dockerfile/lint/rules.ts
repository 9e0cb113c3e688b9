/**
 * The lint rules jettison checks, under BuildKit's names, descriptions and documentation URLs.
 */
export interface RuleInfo {
  name: string;
  description: string;
  url: string;
  experimental?: boolean;
}

const doc = (slug: string) => `https://docs.docker.com/go/dockerfile/rule/${slug}/`;

export const RULES: Record<string, RuleInfo> = Object.fromEntries(
  (
    [
      ['StageNameCasing', 'Stage names should be lowercase', 'stage-name-casing'],
      ['FromAsCasing', "The 'as' keyword should match the case of the 'from' keyword", 'from-as-casing'],
      ['NoEmptyContinuation', 'Empty continuation lines will become errors in a future release', 'no-empty-continuation'],
      ['ConsistentInstructionCasing', 'All commands within the Dockerfile should use the same casing (either upper or lower)', 'consistent-instruction-casing'],
      ['DuplicateStageName', 'Stage names should be unique', 'duplicate-stage-name'],
      ['ReservedStageName', 'Reserved words should not be used as stage names', 'reserved-stage-name'],
      ['JSONArgsRecommended', 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals', 'json-args-recommended'],
      ['MaintainerDeprecated', 'The MAINTAINER instruction is deprecated, use a label instead to define an image author', 'maintainer-deprecated'],
      ['UndefinedArgInFrom', 'FROM command must use declared ARGs', 'undefined-arg-in-from'],
      ['WorkdirRelativePath', 'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes', 'workdir-relative-path'],
      ['UndefinedVar', 'Variables should be defined before their use', 'undefined-var'],
      ['MultipleInstructionsDisallowed', 'Multiple instructions of the same type should not be used in the same stage', 'multiple-instructions-disallowed'],
      ['LegacyKeyValueFormat', 'Legacy key/value format with whitespace separator should not be used', 'legacy-key-value-format'],
      ['SecretsUsedInArgOrEnv', 'Sensitive data should not be used in the ARG or ENV commands', 'secrets-used-in-arg-or-env'],
      ['InvalidDefaultArgInFrom', 'Default value for global ARG results in an empty or invalid base image name', 'invalid-default-arg-in-from'],
    ] as const
  ).map(([name, description, slug]) => [name, { name, description, url: doc(slug) }]),
);
