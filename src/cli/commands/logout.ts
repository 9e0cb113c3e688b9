/** `jettison logout [REGISTRY]`: removes saved credentials from Docker's config file (default: Docker Hub). */
import type { Command } from 'commander';
import { authKey, DOCKER_HUB, logout } from '../../registry/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program: Command, io: CliIO, _globals: () => GlobalOptions) => {
  program
    .command('logout')
    .description('Log out from a registry (removes its saved credentials)')
    .argument('[registry]', 'registry host (default: Docker Hub)', DOCKER_HUB)
    .action(async (registry: string) => {
      const key = authKey(registry);
      if (await logout(registry, { env: io.env })) io.stdout.write(`Removing login credentials for ${key}\n`);
      else io.stdout.write(`Not logged in to ${key}\n`);
    });
};
