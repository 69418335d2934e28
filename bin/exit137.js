#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so what runs is exactly what the tests check.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
