import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on one construct (and its children). Each id is one exact finding,
 * e.g. `AwsSolutions-IAM5[Resource::*]`, so a new, different finding still fails the synth.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}

/**
 * How cdk-nag spells a value inside a finding id: a token by its Ref (`<AWS::Region>`), a literal
 * (a stack with an explicit `env`) as itself. Acknowledgements built with it match both stacks.
 */
export function nagName(scope: IConstruct, value: string): string {
  return Token.isUnresolved(value) ? `<${Stack.of(scope).resolve(value).Ref}>` : value;
}
