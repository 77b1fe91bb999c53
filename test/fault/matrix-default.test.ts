/** The fault matrix with the construct's default settings (no orphan sweep). See matrix.ts. */
import { defineFaultMatrix } from './suite.ts';

await defineFaultMatrix('default');
