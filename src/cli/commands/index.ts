/**
 * The subcommands, in the order `jettison --help` lists them. A command module exports a
 * `register` function of this type and is added to the list below.
 */
import type { Command } from 'commander';
import type { CliIO, GlobalOptions } from '../context.ts';
import { register as cekit } from './cekit.ts';
import { register as pull } from './pull.ts';
import { register as push } from './push.ts';
import { register as login } from './login.ts';
import { register as logout } from './logout.ts';

export type RegisterCommand = (program: Command, io: CliIO, globals: () => GlobalOptions) => void;

export const commands: RegisterCommand[] = [
  cekit,
  pull,
  push,
  login,
  logout,
];
