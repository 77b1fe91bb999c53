#!/usr/bin/env node
// Runs the CLI from its TypeScript sources (`npm start`, `npm run amicleaner` in a checkout), so
// an edit shows at once without a build. The installed `amicleaner` bin is the compiled
// `dist/cli/bin.js` instead (package.json "bin"), which needs no tsx.
import { register } from 'tsx/esm/api';

register();
await import('./bin.ts');
