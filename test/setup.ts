import 'aws-sdk-client-mock-vitest/extend';
import '../cli/local-runner/polyfills.ts';

// The SDK reads these; tests must never pick up a developer's real account.
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
delete process.env.AWS_PROFILE;
