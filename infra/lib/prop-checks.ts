/** The construct's prop errors: one message shape, naming the prop. */
export function fail(message: string): never {
  throw new Error(`AmiCleaner: ${message}`);
}

export function wholeNumberIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
