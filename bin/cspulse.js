#!/usr/bin/env node
// The TypeScript sources run as they are, through tsx: no build step between a checkout and a run.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
