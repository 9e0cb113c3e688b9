/**
 * The subcommands, in the order `jettison --help` lists them. A command module exports a
 * `register` function of this type and is added to the list below.
 */
import type { Command } from 'commander';
import type { CliIO, GlobalOptions } from '../context.ts';
import { register as buildCmd } from './build.ts';
import { register as cekit } from './cekit.ts';
import { register as pull } from './pull.ts';
import { register as push } from './push.ts';
import { register as login } from './login.ts';
import { register as logout } from './logout.ts';
import { register as images } from './images.ts';
import { register as inspect } from './inspect.ts';
import { register as tag } from './tag.ts';
import { register as rmi } from './rmi.ts';
import { register as save } from './save.ts';
import { register as load } from './load.ts';
import { register as importCmd } from './import.ts';
import { register as prune } from './prune.ts';
import { register as fsck } from './fsck.ts';
import { register as plan } from './plan.ts';
import { register as check } from './check.ts';
import { register as parse } from './parse.ts';
import { register as run } from './run.ts';

export type RegisterCommand = (program: Command, io: CliIO, globals: () => GlobalOptions) => void;

export const commands: RegisterCommand[] = [
  buildCmd,
  run,
  images,
  inspect,
  tag,
  rmi,
  pull,
  push,
  login,
  logout,
  save,
  load,
  importCmd,
  prune,
  fsck,
  plan,
  check,
  parse,
  cekit,
];
