/**
 * STS and Organizations as the simulated organization answers them. Each handler gets the
 * caller's session (who signed the request), because both services decide by caller: AssumeRole
 * checks the role's trust, and only the management account may list the organization.
 */
import type {
  Account,
  ListAccountsForParentCommandInput,
  ListAccountsForParentResponse,
  ListOrganizationalUnitsForParentCommandInput,
  ListOrganizationalUnitsForParentResponse,
} from '@aws-sdk/client-organizations';
import type {
  AssumeRoleCommandInput,
  AssumeRoleResponse,
  GetCallerIdentityResponse,
} from '@aws-sdk/client-sts';
import { SimulatedAwsError } from './errors.ts';
import type { SimSession, SimulatedOrganization } from './organization.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';

type SessionHandler = (input: unknown, session: SimSession) => object | Promise<object>;

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MAX_SESSION_SECONDS = 3600; // a role's default maximum session duration
const ORGANIZATIONS_PAGE = {
  fallback: 20,
  min: 1,
  max: 20,
  errorCode: 'InvalidInputException',
  parameter: 'MaxResults',
} as const;

function page<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  input: { NextToken?: string; MaxResults?: number },
  scope: string,
) {
  const after = decodeToken(input.NextToken, scope, 'InvalidInputException');
  const size = pageSize(input.MaxResults, ORGANIZATIONS_PAGE);
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const chosen = rest.slice(0, size);
  const last = chosen.at(-1);
  return {
    items: chosen,
    NextToken: rest.length > size && last !== undefined ? encodeToken(scope, keyOf(last)) : undefined,
  };
}

export function createOrganizationServiceHandlers(
  organization: SimulatedOrganization,
): Readonly<Record<string, Readonly<Record<string, SessionHandler>>>> {
  const requireManagement = (session: SimSession, parentId: string | undefined): string => {
    if (session.accountId !== organization.managementAccountId) {
      throw new SimulatedAwsError(
        'AccessDeniedException',
        "You don't have permissions to access this resource.",
        400,
      );
    }
    if (
      parentId === undefined ||
      (parentId !== organization.rootId && !organization.organizationalUnits.has(parentId))
    ) {
      throw new SimulatedAwsError(
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
      );
    }
    if (organization.deniedParents.has(parentId)) {
      throw new SimulatedAwsError(
        'AccessDeniedException',
        "You don't have permissions to access this resource.",
        400,
      );
    }
    return parentId;
  };

  return {
    STS: {
      AssumeRole: (raw, session): AssumeRoleResponse => {
        const input = raw as AssumeRoleCommandInput;
        if (!SESSION_NAME.test(input.RoleSessionName ?? '')) {
          throw new SimulatedAwsError('ValidationError', 'RoleSessionName must satisfy [\\w+=,.@-]{2,64}');
        }
        const duration = input.DurationSeconds ?? 3600;
        if (duration < 900 || duration > MAX_SESSION_SECONDS) {
          throw new SimulatedAwsError(
            'ValidationError',
            `DurationSeconds ${duration} is outside 900..${MAX_SESSION_SECONDS}`,
          );
        }
        const issued = organization.assumeRole(
          session,
          input.RoleArn ?? '',
          input.RoleSessionName ?? '',
          duration,
        );
        return {
          Credentials: {
            AccessKeyId: issued.accessKeyId,
            SecretAccessKey: issued.secretAccessKey,
            SessionToken: issued.sessionToken,
            Expiration: issued.expiration,
          },
          AssumedRoleUser: {
            Arn: issued.assumedRoleArn,
            AssumedRoleId: `AROA${issued.accessKeyId.slice(4)}:${input.RoleSessionName}`,
          },
        };
      },
      GetCallerIdentity: (_raw, session): GetCallerIdentityResponse => ({
        Account: session.accountId,
        Arn: session.callerArn,
        UserId: session.callerArn,
      }),
    },
    Organizations: {
      ListAccountsForParent: (raw, session): ListAccountsForParentResponse => {
        const input = raw as ListAccountsForParentCommandInput;
        const parentId = requireManagement(session, input.ParentId);
        const children = [...organization.accounts.values()].filter(
          (account) => account.parentId === parentId,
        );
        const { items, NextToken } = page(
          children,
          (a) => a.accountId,
          input,
          `ListAccountsForParent:${parentId}`,
        );
        const accounts: Account[] = items.map((account) => ({
          Id: account.accountId,
          Arn: `arn:aws:organizations::${organization.managementAccountId}:account/${organization.organizationId}/${account.accountId}`,
          Name: account.name,
          Email: `${account.name}@example.com`,
          State: account.state,
          // The deprecated field has no CLOSED value.
          Status: account.state === 'CLOSED' ? 'SUSPENDED' : account.state,
        }));
        return { Accounts: accounts, ...(NextToken === undefined ? {} : { NextToken }) };
      },
      ListOrganizationalUnitsForParent: (raw, session): ListOrganizationalUnitsForParentResponse => {
        const input = raw as ListOrganizationalUnitsForParentCommandInput;
        const parentId = requireManagement(session, input.ParentId);
        const children = [...organization.organizationalUnits.values()].filter(
          (ou) => ou.parentId === parentId,
        );
        const { items, NextToken } = page(
          children,
          (ou) => ou.id,
          input,
          `ListOrganizationalUnitsForParent:${parentId}`,
        );
        return {
          OrganizationalUnits: items.map((ou) => ({ Id: ou.id, Arn: ou.arn, Name: ou.name })),
          ...(NextToken === undefined ? {} : { NextToken }),
        };
      },
    },
  };
}
