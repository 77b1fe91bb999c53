/** The fault matrix with the orphan sweep on. See matrix.ts. */
import { defineFaultMatrix } from './suite.ts';

await defineFaultMatrix('sweep');
